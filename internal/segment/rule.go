// Package segment selects customers with a rule tree: AND/OR groups,
// negation (exclusions), and conditions over customer fields, products,
// custom attributes, tags, LINE state, consent and last-contact dates. A tree
// is JSON (saved segments, campaigns) and compiles to ONE parameterised SQL
// query: values are always bound arguments, never spliced into the text.
//
// Counting per channel answers who could be reached: LINE (linked, following
// and consenting), email (consent and an address), SMS (consent and a mobile
// number). Consent is enforced again by package campaign when recipients are
// resolved, whatever a segment's rules say.
package segment

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// ErrInvalid wraps every validation failure of a rule tree.
var ErrInvalid = errors.New("segment: invalid rule")

// Node is one node of the rule tree: a group (Op "and" / "or" with
// Children) or a condition (Cond). Not negates the node (an exclusion).
type Node struct {
	Op       string     `json:"op,omitempty"` // and, or (group) or "" (condition)
	Not      bool       `json:"not,omitempty"`
	Children []Node     `json:"children,omitempty"`
	Cond     *Condition `json:"cond,omitempty"`
}

// Condition kinds.
const (
	KindField       = "field"       // Field: branch, status, gender, staff, postal_prefix, age
	KindProduct     = "product"     // has a product matching ProductType/Code/Status/Matures*/AmountBand
	KindAttribute   = "attribute"   // custom attribute Key compared with Cmp to Value(s)
	KindTag         = "tag"         // has tag Value (Not: has not)
	KindLine        = "line"        // Value: linked, following, blocked
	KindConsent     = "consent"     // Value: line, email, sms, postal (granted)
	KindLastContact = "lastContact" // Direction in/out within Days (Not: not within, includes never)
	KindSurvey      = "survey"      // answered survey; compiled by an Extension (surveys do not exist yet)
	KindClick       = "click"       // opened (Cmp clicked) or not (not_clicked) tracked link Value ("" any) of Campaign; an Extension (package clicks)
)

// Condition is one test on a customer. Which fields matter depends on Kind.
type Condition struct {
	Kind   string   `json:"kind"`
	Field  string   `json:"field,omitempty"`
	Cmp    string   `json:"cmp,omitempty"` // eq, ne, in, lt, le, gt, ge, between, contains, prefix
	Value  string   `json:"value,omitempty"`
	Values []string `json:"values,omitempty"`

	// Age band (Field "age"): MinAge <= age <= MaxAge; 0 means open.
	MinAge int `json:"minAge,omitempty"`
	MaxAge int `json:"maxAge,omitempty"`

	// Products.
	ProductType   string `json:"productType,omitempty"`
	ProductCode   string `json:"productCode,omitempty"`
	ProductStatus string `json:"productStatus,omitempty"` // active (default), closed, any
	// Maturity within [MaturesFromDays, MaturesToDays] days of today
	// (both 0: any maturity); HasMaturity with both 0 requires one.
	MaturesFromDays int    `json:"maturesFromDays,omitempty"`
	MaturesToDays   int    `json:"maturesToDays,omitempty"`
	AmountBand      string `json:"amountBand,omitempty"`

	// Attributes.
	Key string `json:"key,omitempty"`

	// Last contact.
	Direction string `json:"direction,omitempty"` // in, out, any
	Days      int    `json:"days,omitempty"`

	// Surveys (extension point): the survey and question IDs.
	Survey   string `json:"survey,omitempty"`
	Question string `json:"question,omitempty"`

	// Tracked-link clicks: the campaign's ID.
	Campaign string `json:"campaign,omitempty"`
}

// Limits of a tree, so that a rule can never make a query SQLite refuses.
const (
	MaxDepth      = 6
	MaxConditions = 60
	MaxValues     = 200
	maxValueLen   = 200
)

// Parse decodes and validates a JSON rule tree. An empty document is the
// empty AND group, which matches every customer.
func Parse(data []byte) (Node, error) {
	var n Node
	if len(strings.TrimSpace(string(data))) == 0 {
		return Node{Op: "and"}, nil
	}
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&n); err != nil {
		return Node{}, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	n = n.orEmpty()
	return n, n.Validate()
}

// orEmpty returns n, or the empty AND group (every customer) for the zero
// Node, which is what an editor sends before any condition is chosen.
func (n Node) orEmpty() Node {
	if n.Op == "" && n.Cond == nil && len(n.Children) == 0 && !n.Not {
		return Node{Op: "and"}
	}
	return n
}

// JSON encodes the tree.
func (n Node) JSON() string {
	b, _ := json.Marshal(n)
	return string(b)
}

// Validate checks the tree's shape and every condition.
func (n Node) Validate() error {
	count := 0
	return n.validate(0, &count)
}

func (n Node) validate(depth int, count *int) error {
	if depth > MaxDepth {
		return fmt.Errorf("%w: nested deeper than %d", ErrInvalid, MaxDepth)
	}
	switch n.Op {
	case "and", "or":
		if n.Cond != nil {
			return fmt.Errorf("%w: a group has no condition", ErrInvalid)
		}
		for _, c := range n.Children {
			if err := c.validate(depth+1, count); err != nil {
				return err
			}
		}
		return nil
	case "":
		if n.Cond == nil || len(n.Children) > 0 {
			return fmt.Errorf("%w: a condition node needs cond and no children", ErrInvalid)
		}
		*count++
		if *count > MaxConditions {
			return fmt.Errorf("%w: more than %d conditions", ErrInvalid, MaxConditions)
		}
		return n.Cond.validate()
	}
	return fmt.Errorf("%w: op %q", ErrInvalid, n.Op)
}

var (
	datePattern  = regexp.MustCompile(`^[0-9]{4}-[0-9]{2}-[0-9]{2}$`)
	numberRegexp = regexp.MustCompile(`^-?[0-9]+(\.[0-9]+)?$`)
)

func (c Condition) validate() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s: %s", ErrInvalid, c.Kind, fmt.Sprintf(format, args...))
	}
	if len(c.Values) > MaxValues {
		return bad("more than %d values", MaxValues)
	}
	for _, v := range append([]string{c.Value}, c.Values...) {
		if len([]rune(v)) > maxValueLen {
			return bad("value longer than %d characters", maxValueLen)
		}
	}
	switch c.Kind {
	case KindField:
		switch c.Field {
		case "branch", "staff", "status", "gender":
			if c.Cmp != "eq" && c.Cmp != "in" && c.Cmp != "ne" {
				return bad("field %s compares with eq, ne or in", c.Field)
			}
			if c.Cmp == "in" && len(c.Values) == 0 {
				return bad("in needs values")
			}
		case "postal_prefix":
			if c.Value == "" || strings.Trim(c.Value, "0123456789-") != "" {
				return bad("postal prefix must be digits")
			}
		case "age":
			if c.MinAge < 0 || c.MaxAge < 0 || c.MaxAge != 0 && c.MaxAge < c.MinAge || c.MinAge == 0 && c.MaxAge == 0 {
				return bad("age band %d-%d", c.MinAge, c.MaxAge)
			}
		default:
			return bad("unknown field %q", c.Field)
		}
	case KindProduct:
		if c.ProductType == "" && c.ProductCode == "" {
			return bad("product type or code is required")
		}
		switch c.ProductStatus {
		case "", "active", "closed", "any":
		default:
			return bad("product status %q", c.ProductStatus)
		}
		if c.MaturesFromDays > c.MaturesToDays {
			return bad("maturity range %d-%d days", c.MaturesFromDays, c.MaturesToDays)
		}
	case KindAttribute:
		if c.Key == "" {
			return bad("attribute key is required")
		}
		switch c.Cmp {
		case "eq", "ne", "lt", "le", "gt", "ge", "contains", "in", "between":
		default:
			return bad("comparison %q", c.Cmp)
		}
		if c.Cmp == "between" && len(c.Values) != 2 || c.Cmp == "in" && len(c.Values) == 0 {
			return bad("%s needs values", c.Cmp)
		}
	case KindTag:
		if c.Value == "" {
			return bad("tag is required")
		}
	case KindLine:
		switch c.Value {
		case "linked", "following", "blocked":
		default:
			return bad("LINE state %q", c.Value)
		}
	case KindConsent:
		switch c.Value {
		case "line", "email", "sms", "postal":
		default:
			return bad("channel %q", c.Value)
		}
	case KindLastContact:
		switch c.Direction {
		case "in", "out", "any":
		default:
			return bad("direction %q", c.Direction)
		}
		if c.Days <= 0 || c.Days > 3650 {
			return bad("days %d", c.Days)
		}
	case KindSurvey:
		if c.Survey == "" {
			return bad("survey is required")
		}
	case KindClick:
		if c.Campaign == "" {
			return bad("campaign is required")
		}
		if c.Cmp != "clicked" && c.Cmp != "not_clicked" {
			return bad("comparison %q", c.Cmp)
		}
	default:
		return fmt.Errorf("%w: unknown kind %q", ErrInvalid, c.Kind)
	}
	return nil
}
