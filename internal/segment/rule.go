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
	"strconv"
	"strings"

	"tsunagu/internal/fielderr"
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
	KindForm        = "form"        // answered web form Form (Question, Values: a choice answer is one of them); an Extension (package forms)
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

	// Web forms (with Question and Values): the form's ID.
	Form string `json:"form,omitempty"`
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

// Validate checks the tree's shape and every condition. A wrong condition
// is reported with its path in the tree's JSON (fielderr:
// "children.1.cond.maxAge"), all of them at once, so that the editor marks
// each one; a caller that holds the tree under a name puts the paths in
// place (fielderr.Under("rules", err)). A malformed shape (a group with a
// condition, an unknown op, nesting deeper than MaxDepth) is a plain
// ErrInvalid: no editor builds one, and there is no field to mark.
func (n Node) Validate() error {
	count := 0
	var l fielderr.List
	if err := n.validate("", 0, &count, &l); errors.Is(err, errTooMany) {
		// The tree as a whole (the caller's "rules").
		return fielderr.NewMax(ErrInvalid, "", fielderr.TooMany, MaxConditions)
	} else if err != nil {
		return err
	}
	return l.Err(ErrInvalid)
}

// errTooMany stops the walk of a tree past MaxConditions conditions (it
// may come from outside the editor: nothing more of it is read).
var errTooMany = errors.New("segment: too many conditions")

// join appends a part to a fielderr path ("" is the root).
func join(path, part string) string {
	if path == "" {
		return part
	}
	return path + "." + part
}

func (n Node) validate(path string, depth int, count *int, l *fielderr.List) error {
	if depth > MaxDepth {
		return fmt.Errorf("%w: nested deeper than %d", ErrInvalid, MaxDepth)
	}
	switch n.Op {
	case "and", "or":
		if n.Cond != nil {
			return fmt.Errorf("%w: a group has no condition", ErrInvalid)
		}
		for i, c := range n.Children {
			if err := c.validate(join(path, "children."+strconv.Itoa(i)), depth+1, count, l); err != nil {
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
			return errTooMany
		}
		n.Cond.validate(join(path, "cond"), l)
		return nil
	}
	return fmt.Errorf("%w: op %q", ErrInvalid, n.Op)
}

var (
	datePattern  = regexp.MustCompile(`^[0-9]{4}-[0-9]{2}-[0-9]{2}$`)
	numberRegexp = regexp.MustCompile(`^-?[0-9]+(\.[0-9]+)?$`)
)

// MaxLastContactDays is the longest "last contact within" span (10 years).
const MaxLastContactDays = 3650

// validate adds what is wrong with c to l, each under path ("cond" of its
// node) by the JSON name of the part that is wrong.
func (c Condition) validate(path string, l *fielderr.List) {
	at := func(part string) string { return join(path, part) }
	if len(c.Values) > MaxValues {
		l.AddMax(at("values"), fielderr.TooMany, MaxValues)
	}
	if len([]rune(c.Value)) > maxValueLen {
		l.AddMax(at("value"), fielderr.TooLong, maxValueLen)
	}
	for i, v := range c.Values {
		if len([]rune(v)) > maxValueLen {
			l.AddMax(at("values."+strconv.Itoa(i)), fielderr.TooLong, maxValueLen)
		}
	}
	switch c.Kind {
	case KindField:
		switch c.Field {
		case "branch", "staff", "status", "gender":
			if c.Cmp != "eq" && c.Cmp != "in" && c.Cmp != "ne" {
				l.Add(at("cmp"), fielderr.Choose)
			}
			if c.Cmp == "in" && len(c.Values) == 0 {
				l.Add(at("values"), fielderr.Required)
			}
		case "postal_prefix":
			if c.Value == "" {
				l.Add(at("value"), fielderr.Required)
			} else if strings.Trim(c.Value, "0123456789-") != "" {
				l.Add(at("value"), fielderr.Format)
			}
		case "age":
			switch {
			case c.MinAge < 0:
				l.Add(at("minAge"), fielderr.Format)
			case c.MaxAge < 0:
				l.Add(at("maxAge"), fielderr.Format)
			case c.MinAge == 0 && c.MaxAge == 0:
				l.Add(at("minAge"), fielderr.Required)
			case c.MaxAge != 0 && c.MaxAge < c.MinAge:
				l.Add(at("maxAge"), fielderr.Range)
			}
		default:
			l.Add(at("field"), fielderr.Choose)
		}
	case KindProduct:
		if c.ProductType == "" && c.ProductCode == "" {
			l.Add(at("productType"), fielderr.Required)
		}
		switch c.ProductStatus {
		case "", "active", "closed", "any":
		default:
			l.Add(at("productStatus"), fielderr.Choose)
		}
		if c.MaturesFromDays > c.MaturesToDays {
			l.Add(at("maturesToDays"), fielderr.Range)
		}
	case KindAttribute:
		if c.Key == "" {
			l.Add(at("key"), fielderr.Required)
		}
		switch c.Cmp {
		case "eq", "ne", "lt", "le", "gt", "ge", "contains", "in", "between":
		default:
			l.Add(at("cmp"), fielderr.Choose)
		}
		if c.Cmp == "between" && len(c.Values) != 2 || c.Cmp == "in" && len(c.Values) == 0 {
			l.Add(at("values"), fielderr.Required)
		}
	case KindTag:
		if c.Value == "" {
			l.Add(at("value"), fielderr.Required)
		}
	case KindLine:
		switch c.Value {
		case "linked", "following", "blocked":
		default:
			l.Add(at("value"), fielderr.Choose)
		}
	case KindConsent:
		switch c.Value {
		case "line", "email", "sms", "postal":
		default:
			l.Add(at("value"), fielderr.Choose)
		}
	case KindLastContact:
		switch c.Direction {
		case "in", "out", "any":
		default:
			l.Add(at("direction"), fielderr.Choose)
		}
		if c.Days <= 0 {
			l.Add(at("days"), fielderr.Required)
		} else if c.Days > MaxLastContactDays {
			l.AddMax(at("days"), fielderr.AtMost, MaxLastContactDays)
		}
	case KindSurvey:
		if c.Survey == "" {
			l.Add(at("survey"), fielderr.Choose)
		}
	case KindForm:
		if c.Form == "" {
			l.Add(at("form"), fielderr.Choose)
		}
		if c.Question != "" && len(c.Values) == 0 {
			l.Add(at("values"), fielderr.Choose)
		}
	case KindClick:
		if c.Campaign == "" {
			l.Add(at("campaign"), fielderr.Choose)
		}
		if c.Cmp != "clicked" && c.Cmp != "not_clicked" {
			l.Add(at("cmp"), fielderr.Choose)
		}
	default:
		l.Add(at("kind"), fielderr.Choose)
	}
}
