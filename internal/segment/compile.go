package segment

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"tsunagu/internal/customer"
)

// ErrUnsupported is returned for a condition no compiler handles yet (a
// survey condition before surveys exist).
var ErrUnsupported = errors.New("segment: condition not supported")

// Extension compiles a condition kind the package does not know (surveys,
// KindSurvey). It returns the set of customers the condition holds for as
// one SELECT of customer IDs ("SELECT customer_id FROM ... WHERE ...", NULLs
// allowed, no ORDER BY or LIMIT) and its bound arguments; it must never
// splice a value into the text. The compiler tests "c.id IN (set)", or
// intersects the sets first (see intersected).
type Extension func(c Condition, now time.Time) (set string, args []any, err error)

// Query is a compiled rule tree: Where is an SQL expression over the
// customers table aliased "c", Args its bound arguments in order.
type Query struct {
	Where string
	Args  []any
}

// Compiler turns rule trees into SQL.
type Compiler struct {
	now  func() time.Time
	loc  *time.Location
	exts map[string]Extension
}

// NewCompiler returns a compiler; dates ("maturing within 90 days", age)
// are computed from clock in loc (nil: time.Now, Asia/Tokyo).
func NewCompiler(clock func() time.Time, loc *time.Location, exts map[string]Extension) *Compiler {
	if clock == nil {
		clock = time.Now
	}
	if loc == nil {
		loc = tokyo()
	}
	return &Compiler{now: clock, loc: loc, exts: exts}
}

func tokyo() *time.Location {
	if l, err := time.LoadLocation("Asia/Tokyo"); err == nil {
		return l
	}
	return time.FixedZone("JST", 9*3600)
}

// Compile validates n and compiles it. The zero Node (nothing chosen yet
// in the editor) is the empty AND group: every customer.
func (cp *Compiler) Compile(n Node) (Query, error) {
	n = n.orEmpty()
	if err := n.Validate(); err != nil {
		return Query{}, err
	}
	var q Query
	expr, err := cp.node(n, &q.Args, driver(n), cp.intersected(n))
	if err != nil {
		return Query{}, err
	}
	q.Where = expr
	return q, nil
}

// driver picks the condition SQLite should drive the query from: one
// positive set condition at the top level, the most selective by kind.
// It compiles to "c.id IN (SELECT customer_id ...)", which SQLite turns into
// rowid lookups of just those customers; every other set condition is a
// correlated EXISTS answered from a primary key or covering index per row.
// (Materialising, say, the 750,000 rows of the old consents table for an
// IN cost more than the whole query.) Without a driver SQLite scans
// customers.
func driver(n Node) *Condition {
	rank := func(c *Condition) int {
		switch c.Kind {
		case KindProduct:
			if c.MaturesFromDays != 0 || c.MaturesToDays != 0 || c.ProductCode != "" {
				return 6
			}
			return 3
		case KindTag:
			return 5
		case KindLastContact:
			return 4
		case KindAttribute:
			return 2
		case KindLine:
			return 1
		}
		return 0 // fields and consents are columns of customers
	}
	var cands []Node
	switch {
	case n.Not:
		return nil
	case n.Op == "" && n.Cond != nil:
		cands = []Node{n}
	case n.Op == "and":
		cands = n.Children
	}
	var best *Condition
	for _, c := range cands {
		if c.Not || c.Op != "" || c.Cond == nil {
			continue
		}
		if r := rank(c.Cond); r > 0 && (best == nil || r > rank(best)) {
			best = c.Cond
		}
	}
	return best
}

// intersected returns the positive extension conditions (survey answers)
// of a top-level AND when there are two or more. Each is a set built once
// per query (resolving LINE answers to customers costs a lookup per answer),
// and SQLite drives from one such "c.id IN (set)" and probes the others for
// every customer of the first: 300,000 rowid lookups of customers for a
// segment of 200,000. Intersecting the sets first looks up only the
// customers in all of them. Only at the top level: there, a customer outside
// a set is excluded whether "c.id IN" yields false or NULL, so one
// "c.id IN (a INTERSECT b)" selects the same customers as "c.id IN (a) AND
// c.id IN (b)".
func (cp *Compiler) intersected(n Node) []*Condition {
	if n.Not || n.Op != "and" {
		return nil
	}
	var out []*Condition
	for _, c := range n.Children {
		if c.Not || c.Op != "" || c.Cond == nil {
			continue
		}
		if _, ok := cp.exts[c.Cond.Kind]; ok && !builtinKinds[c.Cond.Kind] {
			out = append(out, c.Cond)
		}
	}
	if len(out) < 2 {
		return nil
	}
	return out
}

// builtinKinds are compiled by cond itself, whatever extensions say.
var builtinKinds = map[string]bool{KindField: true, KindProduct: true, KindAttribute: true, KindTag: true,
	KindLine: true, KindConsent: true, KindLastContact: true}

// node compiles n; isect (top level only) are conditions of n's children
// compiled as one intersected set, in the place of the first.
func (cp *Compiler) node(n Node, args *[]any, drive *Condition, isect []*Condition) (string, error) {
	var expr string
	switch n.Op {
	case "and", "or":
		if len(n.Children) == 0 {
			// The empty AND matches everyone, the empty OR no one.
			expr = map[string]string{"and": "1", "or": "0"}[n.Op]
			break
		}
		parts := make([]string, 0, len(n.Children))
		for _, c := range n.Children {
			if len(isect) > 0 && c.Cond != nil && slices.Contains(isect, c.Cond) {
				if c.Cond != isect[0] {
					continue // in the set compiled at the first
				}
				p, err := cp.intersect(isect, args)
				if err != nil {
					return "", err
				}
				parts = append(parts, "("+p+")")
				continue
			}
			p, err := cp.node(c, args, drive, nil)
			if err != nil {
				return "", err
			}
			parts = append(parts, "("+p+")")
		}
		expr = strings.Join(parts, " "+strings.ToUpper(n.Op)+" ")
	default:
		e, a, err := cp.cond(*n.Cond, n.Cond == drive)
		if err != nil {
			return "", err
		}
		expr = e
		*args = append(*args, a...)
	}
	if n.Not {
		return "NOT (" + expr + ")", nil
	}
	return expr, nil
}

// placeholders returns "?, ?, ?" and the values as arguments.
func placeholders(vs []string) (string, []any) {
	args := make([]any, len(vs))
	for i, v := range vs {
		args[i] = v
	}
	return strings.TrimSuffix(strings.Repeat("?, ", len(vs)), ", "), args
}

// member is a set condition: customers for whom a row of from (joined as
// needed; col is its customer ID column) matches where. drive: as the
// driving "c.id IN (...)", else a correlated EXISTS.
func member(from, col, where string, drive bool) string {
	if drive {
		return "c.id IN (SELECT " + col + " FROM " + from + " WHERE " + where + ")"
	}
	return "EXISTS (SELECT 1 FROM " + from + " WHERE " + col + " = c.id AND " + where + ")"
}

func (cp *Compiler) cond(c Condition, drive bool) (string, []any, error) {
	today := cp.now().In(cp.loc)
	day := func(t time.Time) string { return t.Format("2006-01-02") }
	switch c.Kind {
	case KindField:
		if c.Field == "postal_prefix" {
			return `c.postal_code LIKE ? ESCAPE '\'`, []any{escapeLike(c.Value) + "%"}, nil
		}
		if c.Field == "age" {
			// Age >= MinAge: born on or before today minus MinAge years.
			var parts []string
			var args []any
			parts = append(parts, "c.birth_date <> ''")
			if c.MinAge > 0 {
				parts = append(parts, "c.birth_date <= ?")
				args = append(args, day(today.AddDate(-c.MinAge, 0, 0)))
			}
			if c.MaxAge > 0 {
				// Age <= MaxAge: born after today minus MaxAge+1 years.
				parts = append(parts, "c.birth_date > ?")
				args = append(args, day(today.AddDate(-(c.MaxAge+1), 0, 0)))
			}
			return strings.Join(parts, " AND "), args, nil
		}
		col := map[string]string{"branch": "c.branch", "staff": "c.staff_in_charge", "status": "c.status", "gender": "c.gender"}[c.Field]
		switch c.Cmp {
		case "eq":
			return col + " = ?", []any{c.Value}, nil
		case "ne":
			return col + " <> ?", []any{c.Value}, nil
		default:
			ph, args := placeholders(c.Values)
			return col + " IN (" + ph + ")", args, nil
		}
	case KindProduct:
		where, args := cp.productWhere(c)
		return member("products p", "p.customer_id", where, drive), args, nil
	case KindAttribute:
		cmp, args := attrCompare(c)
		return member("customer_attributes a JOIN attribute_defs d ON d.id = a.attr_id", "a.customer_id", "d.key = ? AND "+cmp, drive),
			append([]any{c.Key}, args...), nil
	case KindTag:
		return member("customer_tags ct JOIN tags t ON t.id = ct.tag_id", "ct.customer_id", "t.name = ?", drive), []any{c.Value}, nil
	case KindLine:
		links := "customer_line_links l JOIN line_users u ON u.user_id = l.line_user_id"
		switch c.Value {
		case "linked":
			return member("customer_line_links l", "l.customer_id", "1", drive), nil, nil
		case "following":
			return member(links, "l.customer_id", "u.follow_state = 'following' AND u.unreachable_at IS NULL", drive), nil, nil
		default: // blocked
			return member(links, "l.customer_id", "(u.follow_state = 'unfollowed' OR u.unreachable_at IS NOT NULL)", drive), nil, nil
		}
	case KindConsent:
		// A column of the row (migration 0015), never a driver.
		if _, ok := customer.ConsentColumn(c.Value); !ok {
			return "", nil, fmt.Errorf("%w: consent channel %q", ErrInvalid, c.Value)
		}
		return ConsentExpr("c", c.Value), nil, nil
	case KindLastContact:
		dir := ""
		var args []any
		if c.Direction != "any" {
			dir = " AND m.direction = ?"
			args = append(args, c.Direction)
		}
		since := cp.now().AddDate(0, 0, -c.Days).UnixMilli()
		args = append(args, since)
		// Follow events and tracked-link click lines (package clicks) are
		// not an exchange with the customer.
		return member("customer_line_links l JOIN conversations cv ON cv.line_user_id = l.line_user_id JOIN messages m ON m.conversation_id = cv.id",
			"l.customer_id", "m.kind NOT IN ('follow','unfollow','link_click')"+dir+" AND m.created_at >= ?", drive), args, nil
	}
	if ext, ok := cp.exts[c.Kind]; ok {
		set, args, err := ext(c, cp.now())
		if err != nil {
			return "", nil, err
		}
		return "(c.id IN (" + set + "))", args, nil
	}
	return "", nil, fmt.Errorf("%w: %s", ErrUnsupported, c.Kind)
}

// productWhere is a product condition's test of one products row (alias
// p): the condition itself (cond) and the preview's reasons (Matches)
// use the same SQL.
func (cp *Compiler) productWhere(c Condition) (string, []any) {
	today := cp.now().In(cp.loc)
	day := func(t time.Time) string { return t.Format("2006-01-02") }
	where := []string{}
	var args []any
	if c.ProductType != "" {
		where = append(where, "p.type = ?")
		args = append(args, c.ProductType)
	}
	if c.ProductCode != "" {
		where = append(where, "p.product_code = ?")
		args = append(args, c.ProductCode)
	}
	switch c.ProductStatus {
	case "", "active":
		where = append(where, "p.status = 'active'")
	case "closed":
		where = append(where, "p.status = 'closed'")
	}
	if c.MaturesFromDays != 0 || c.MaturesToDays != 0 {
		where = append(where, "p.matures_on BETWEEN ? AND ?")
		args = append(args, day(today.AddDate(0, 0, c.MaturesFromDays)), day(today.AddDate(0, 0, c.MaturesToDays)))
	}
	if c.AmountBand != "" {
		where = append(where, "p.amount_band = ?")
		args = append(args, c.AmountBand)
	}
	return strings.Join(where, " AND "), args
}

// intersect compiles extension conditions as "c.id IN (a INTERSECT b ...)".
// Each set is wrapped as a subquery, so a set that is itself a compound
// SELECT keeps its meaning (compound operators bind left to right).
func (cp *Compiler) intersect(conds []*Condition, args *[]any) (string, error) {
	sets := make([]string, 0, len(conds))
	for _, c := range conds {
		set, a, err := cp.exts[c.Kind](*c, cp.now())
		if err != nil {
			return "", err
		}
		sets = append(sets, "SELECT * FROM ("+set+")")
		*args = append(*args, a...)
	}
	return "c.id IN (" + strings.Join(sets, " INTERSECT ") + ")", nil
}

// attrCompare compares the canonical text value a.value; numbers compare
// numerically, dates (YYYY-MM-DD) and text as text.
func attrCompare(c Condition) (string, []any) {
	numeric := numberRegexp.MatchString(c.Value) || len(c.Values) > 0 && numberRegexp.MatchString(c.Values[0]) && !datePattern.MatchString(c.Values[0])
	col := "a.value"
	val := func(s string) any { return s }
	if numeric && c.Cmp != "eq" && c.Cmp != "ne" && c.Cmp != "contains" && c.Cmp != "in" {
		col = "CAST(a.value AS REAL)"
		val = func(s string) any {
			var f float64
			fmt.Sscan(s, &f)
			return f
		}
	}
	ops := map[string]string{"eq": "=", "ne": "<>", "lt": "<", "le": "<=", "gt": ">", "ge": ">="}
	switch c.Cmp {
	case "contains":
		return `a.value LIKE ? ESCAPE '\'`, []any{"%" + escapeLike(c.Value) + "%"}
	case "in":
		ph, args := placeholders(c.Values)
		return "a.value IN (" + ph + ")", args
	case "between":
		return col + " BETWEEN ? AND ?", []any{val(c.Values[0]), val(c.Values[1])}
	}
	return col + " " + ops[c.Cmp] + " ?", []any{val(c.Value)}
}

func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}
