package segment

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"
	"tsunagu/internal/store/storetest"

	"tsunagu/internal/audit"
	"tsunagu/internal/fielderr"
	"tsunagu/internal/store"
)

var today = time.Date(2026, 11, 25, 1, 0, 0, 0, time.UTC) // 10:00 in Tokyo

func clock() time.Time { return today }

func newDB(tb testing.TB) *store.DB {
	tb.Helper()
	db := storetest.New(tb)
	return db
}

// fixture is a small population whose every property is derived from i,
// so that the tests can compute the expected answer in Go.
type fixture struct {
	i                      int
	branch, gender, status string
	birth, postal, staff   string
	linked, following      bool
	blocked                bool
	consent                map[string]bool // granted per channel; no key: no record
	email, mobile          string
	tag                    bool
	product                string
	matures                int // days from today
	closed                 bool
	amount                 string
	score                  int // custom attribute "score"
	lastIn                 int // days ago of the last inbound message; -1: none
}

func population(n int) []fixture {
	out := make([]fixture, n)
	for i := range out {
		f := fixture{i: i, branch: []string{"本店", "駅前", "北"}[i%3], gender: []string{"male", "female", ""}[i%3],
			status: map[bool]string{true: "inactive", false: "active"}[i%13 == 0],
			staff:  []string{"佐藤", "鈴木"}[i%2], postal: fmt.Sprintf("%03d-0001", 100+i%5),
			consent: map[string]bool{"line": i%2 == 0, "email": i%3 != 0, "sms": i%4 == 0}, score: i % 100, lastIn: -1}
		if i%7 == 5 {
			delete(f.consent, "sms") // never asked: no record, no consent
		}
		f.birth = today.AddDate(-(20 + i%60), 0, -(i % 300)).Format("2006-01-02")
		if i%4 != 3 {
			f.linked = true
			f.following = i%5 != 0
			f.blocked = !f.following
		}
		if i%2 == 0 {
			f.email = fmt.Sprintf("p%d@example.jp", i)
		}
		if i%5 < 2 {
			f.mobile = fmt.Sprintf("090%08d", i)
		}
		f.tag = i%7 == 0
		if i%3 != 2 {
			f.product, f.matures, f.closed, f.amount = []string{"定期預金", "住宅ローン"}[i%2], i%200-20, i%17 == 0, []string{"100-300万", "300-1000万"}[i%2]
		}
		if f.linked && i%6 == 0 {
			f.lastIn = i % 40
		}
		out[i] = f
	}
	return out
}

func load(tb testing.TB, db *store.DB, fs []fixture) {
	tb.Helper()
	ctx := context.Background()
	err := db.Write(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO tags (id, name) VALUES (1, 'VIP'); INSERT INTO attribute_defs (id, key, label, type, created_at) VALUES (1, 'score', 'スコア', 'number', 0)`); err != nil {
			return err
		}
		for _, f := range fs {
			id := int64(f.i + 1)
			if _, err := tx.ExecContext(ctx, `INSERT INTO customers (id, customer_no, name, birth_date, gender, postal_code, branch, staff_in_charge, status, email, mobile, created_at, updated_at)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, 0)`, id, fmt.Sprintf("N%05d", f.i), "客"+fmt.Sprint(f.i), f.birth, f.gender, f.postal, f.branch, f.staff, f.status, f.email, f.mobile); err != nil {
				return err
			}
			for ch, ok := range f.consent {
				if _, err := tx.ExecContext(ctx, `INSERT INTO consents VALUES (?, ?, ?, 't', 0)`, id, ch, map[bool]int{true: 1}[ok]); err != nil {
					return err
				}
			}
			if f.linked {
				uid := fmt.Sprintf("U%032x", f.i)
				state := map[bool]string{true: "following", false: "unfollowed"}[f.following]
				if _, err := tx.ExecContext(ctx, `INSERT INTO line_users (user_id, follow_state, created_at) VALUES (?, ?, 0)`, uid, state); err != nil {
					return err
				}
				if _, err := tx.ExecContext(ctx, `INSERT INTO customer_line_links VALUES (?, ?, 0, 'manual', '')`, id, uid); err != nil {
					return err
				}
				if f.lastIn >= 0 {
					var conv int64
					if err := tx.QueryRowContext(ctx, `INSERT INTO conversations (line_user_id, created_at) VALUES (?, 0) RETURNING id`, uid).Scan(&conv); err != nil {
						return err
					}
					if _, err := tx.ExecContext(ctx, `INSERT INTO messages (conversation_id, direction, kind, body, created_at) VALUES (?, 'in', 'text', 'x', ?)`,
						conv, today.AddDate(0, 0, -f.lastIn).UnixMilli()); err != nil {
						return err
					}
				}
			}
			if f.tag {
				if _, err := tx.ExecContext(ctx, `INSERT INTO customer_tags VALUES (?, 1)`, id); err != nil {
					return err
				}
			}
			if f.product != "" {
				st := map[bool]string{true: "closed", false: "active"}[f.closed]
				if _, err := tx.ExecContext(ctx, `INSERT INTO products (customer_id, type, matures_on, status, amount_band, created_at) VALUES (?, ?, ?, ?, ?, 0)`,
					id, f.product, today.AddDate(0, 0, f.matures).Format("2006-01-02"), st, f.amount); err != nil {
					return err
				}
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO customer_attributes VALUES (?, 1, ?)`, id, fmt.Sprint(f.score)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
}

func cond(c Condition) Node { return Node{Cond: &c} }

func not(n Node) Node { n.Not = true; return n }

func and(ns ...Node) Node { return Node{Op: "and", Children: ns} }

func or(ns ...Node) Node { return Node{Op: "or", Children: ns} }

func TestRulesSelectTheRightCustomers(t *testing.T) {
	db := newDB(t)
	fs := population(600)
	load(t, db, fs)
	svc := New(db, clock, nil)
	age := func(f fixture) int {
		b, _ := time.Parse("2006-01-02", f.birth)
		a := today.Year() - b.Year()
		if today.YearDay() < b.YearDay() {
			a--
		}
		return a
	}
	for _, tt := range []struct {
		name string
		rule Node
		want func(f fixture) bool
	}{
		{"everyone", and(), func(fixture) bool { return true }},
		{"branch in", cond(Condition{Kind: KindField, Field: "branch", Cmp: "in", Values: []string{"本店", "北"}}), func(f fixture) bool { return f.branch != "駅前" }},
		{"status", cond(Condition{Kind: KindField, Field: "status", Cmp: "eq", Value: "inactive"}), func(f fixture) bool { return f.status == "inactive" }},
		{"gender ne", cond(Condition{Kind: KindField, Field: "gender", Cmp: "ne", Value: "male"}), func(f fixture) bool { return f.gender != "male" }},
		{"staff", cond(Condition{Kind: KindField, Field: "staff", Cmp: "eq", Value: "佐藤"}), func(f fixture) bool { return f.staff == "佐藤" }},
		{"postal prefix", cond(Condition{Kind: KindField, Field: "postal_prefix", Value: "102"}), func(f fixture) bool { return strings.HasPrefix(f.postal, "102") }},
		{"age 30-39", cond(Condition{Kind: KindField, Field: "age", MinAge: 30, MaxAge: 39}), func(f fixture) bool { return age(f) >= 30 && age(f) <= 39 }},
		{"age 65+", cond(Condition{Kind: KindField, Field: "age", MinAge: 65}), func(f fixture) bool { return age(f) >= 65 }},
		{"has 定期 maturing in 90 days", cond(Condition{Kind: KindProduct, ProductType: "定期預金", MaturesFromDays: 0, MaturesToDays: 90}),
			func(f fixture) bool {
				return f.product == "定期預金" && !f.closed && f.matures >= 0 && f.matures <= 90
			}},
		{"has no 住宅ローン", not(cond(Condition{Kind: KindProduct, ProductType: "住宅ローン"})), func(f fixture) bool { return f.product != "住宅ローン" || f.closed }},
		{"closed product with band", cond(Condition{Kind: KindProduct, ProductType: "定期預金", ProductStatus: "closed", AmountBand: "100-300万"}),
			func(f fixture) bool { return f.product == "定期預金" && f.closed && f.amount == "100-300万" }},
		{"attribute score >= 50", cond(Condition{Kind: KindAttribute, Key: "score", Cmp: "ge", Value: "50"}), func(f fixture) bool { return f.score >= 50 }},
		{"attribute score between 5 and 9", cond(Condition{Kind: KindAttribute, Key: "score", Cmp: "between", Values: []string{"5", "9"}}), func(f fixture) bool { return f.score >= 5 && f.score <= 9 }},
		{"tag", cond(Condition{Kind: KindTag, Value: "VIP"}), func(f fixture) bool { return f.tag }},
		{"not tag", not(cond(Condition{Kind: KindTag, Value: "VIP"})), func(f fixture) bool { return !f.tag }},
		{"linked", cond(Condition{Kind: KindLine, Value: "linked"}), func(f fixture) bool { return f.linked }},
		{"following", cond(Condition{Kind: KindLine, Value: "following"}), func(f fixture) bool { return f.linked && f.following }},
		{"blocked", cond(Condition{Kind: KindLine, Value: "blocked"}), func(f fixture) bool { return f.blocked }},
		{"email consent", cond(Condition{Kind: KindConsent, Value: "email"}), func(f fixture) bool { return f.consent["email"] }},
		// Refused and never asked alike: a NOT must not drop customers without a record.
		{"no SMS consent", not(cond(Condition{Kind: KindConsent, Value: "sms"})), func(f fixture) bool { return !f.consent["sms"] }},
		{"no postal consent (none recorded)", not(cond(Condition{Kind: KindConsent, Value: "postal"})), func(fixture) bool { return true }},
		{"contacted within 14 days", cond(Condition{Kind: KindLastContact, Direction: "in", Days: 14}), func(f fixture) bool { return f.lastIn >= 0 && f.lastIn <= 14 }},
		{"not contacted within 14 days", not(cond(Condition{Kind: KindLastContact, Direction: "any", Days: 14})), func(f fixture) bool { return !(f.lastIn >= 0 && f.lastIn <= 14) }},
		{"realistic", and(
			cond(Condition{Kind: KindField, Field: "branch", Cmp: "in", Values: []string{"本店", "駅前"}}),
			cond(Condition{Kind: KindProduct, ProductType: "定期預金", MaturesToDays: 90}),
			not(cond(Condition{Kind: KindTag, Value: "VIP"})),
			cond(Condition{Kind: KindConsent, Value: "line"}),
		), func(f fixture) bool {
			return f.branch != "北" && f.product == "定期預金" && !f.closed && f.matures >= 0 && f.matures <= 90 && !f.tag && f.consent["line"]
		}},
		{"or with exclusion", or(
			cond(Condition{Kind: KindTag, Value: "VIP"}),
			and(cond(Condition{Kind: KindField, Field: "branch", Cmp: "eq", Value: "北"}), not(cond(Condition{Kind: KindLine, Value: "linked"}))),
		), func(f fixture) bool { return f.tag || f.branch == "北" && !f.linked }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			want := Counts{}
			for _, f := range fs {
				if !tt.want(f) {
					continue
				}
				want.Total++
				if f.status != "active" {
					continue
				}
				want.Active++
				if f.linked && f.following && f.consent["line"] {
					want.Line++
				}
				if f.consent["email"] && f.email != "" {
					want.Email++
				}
				if f.consent["sms"] && f.mobile != "" {
					want.SMS++
				}
			}
			got, err := svc.Count(context.Background(), tt.rule)
			if err != nil {
				t.Fatal(err)
			}
			got.Ms = 0
			if got != want {
				t.Fatalf("Count = %+v, want %+v", got, want)
			}
			if want.Total == 0 && tt.name != "closed product with band" {
				t.Fatal("the rule matches nobody: the case tests nothing")
			}
			p, err := svc.Preview(context.Background(), tt.rule, 0, 10)
			if err != nil || p.Total != want.Total || len(p.Rows) != min(10, want.Total) {
				t.Fatalf("Preview = %d rows of %d, %v", len(p.Rows), p.Total, err)
			}
			for _, r := range p.Rows {
				f := fs[r.ID-1]
				granted := []string{}
				for _, ch := range []string{"email", "line", "postal", "sms"} {
					if f.consent[ch] {
						granted = append(granted, ch)
					}
				}
				if strings.Join(r.Consents, ",") != strings.Join(granted, ",") {
					t.Fatalf("%s: preview consents %v, want %v", r.CustomerNo, r.Consents, granted)
				}
			}
		})
	}
}

func TestValuesAreNeverInTheSQL(t *testing.T) {
	cp := NewCompiler(clock, nil, nil)
	evil := `x'); DROP TABLE customers; --`
	for _, n := range []Node{
		cond(Condition{Kind: KindField, Field: "branch", Cmp: "eq", Value: evil}),
		cond(Condition{Kind: KindField, Field: "branch", Cmp: "in", Values: []string{evil, "a"}}),
		cond(Condition{Kind: KindTag, Value: evil}),
		cond(Condition{Kind: KindAttribute, Key: evil, Cmp: "contains", Value: evil}),
		cond(Condition{Kind: KindProduct, ProductType: evil, ProductCode: evil, AmountBand: evil}),
	} {
		q, err := cp.Compile(n)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(q.Where, "DROP") || strings.Contains(q.Where, "x'") {
			t.Fatalf("value spliced into SQL: %s", q.Where)
		}
	}
}

func TestInvalidRules(t *testing.T) {
	deep := cond(Condition{Kind: KindTag, Value: "a"})
	for range MaxDepth + 1 {
		deep = and(deep)
	}
	for _, tt := range []struct {
		name string
		json string
		err  error
	}{
		{"unknown kind", `{"cond": {"kind": "horoscope"}}`, ErrInvalid},
		{"unknown field", `{"cond": {"kind": "field", "field": "salary", "cmp": "eq", "value": "1"}}`, ErrInvalid},
		{"unknown JSON key", `{"op": "and", "children": [], "limit": 5}`, ErrInvalid},
		{"bad op", `{"op": "xor", "children": []}`, ErrInvalid},
		{"group with cond", `{"op": "and", "cond": {"kind": "tag", "value": "a"}}`, ErrInvalid},
		{"empty age band", `{"cond": {"kind": "field", "field": "age"}}`, ErrInvalid},
		{"reversed maturity", `{"cond": {"kind": "product", "productType": "定期預金", "maturesFromDays": 30, "maturesToDays": 10}}`, ErrInvalid},
		{"postal letters", `{"cond": {"kind": "field", "field": "postal_prefix", "value": "1a"}}`, ErrInvalid},
		{"too deep", deep.JSON(), ErrInvalid},
		{"survey without extension", `{"cond": {"kind": "survey", "survey": "s1"}}`, ErrUnsupported},
	} {
		t.Run(tt.name, func(t *testing.T) {
			n, err := Parse([]byte(tt.json))
			if err == nil {
				_, err = NewCompiler(clock, nil, nil).Compile(n)
			}
			if !errors.Is(err, tt.err) {
				t.Fatalf("error %v, want %v", err, tt.err)
			}
		})
	}
}

func TestSurveyExtensionPoint(t *testing.T) {
	ext := map[string]Extension{KindSurvey: func(c Condition, _ time.Time) (string, []any, error) {
		return "SELECT id FROM customers WHERE branch = ?", []any{c.Survey}, nil
	}}
	q, err := NewCompiler(clock, nil, ext).Compile(cond(Condition{Kind: KindSurvey, Survey: "本店"}))
	if err != nil || len(q.Args) != 1 || q.Args[0] != "本店" {
		t.Fatalf("Compile = %+v, %v", q, err)
	}
}

func TestSavedSegmentsAreAudited(t *testing.T) {
	db := newDB(t)
	svc := New(db, clock, nil)
	ctx := context.Background()
	seg, err := svc.Save(ctx, "staff:sato", Segment{Name: "満期90日", Rules: cond(Condition{Kind: KindProduct, ProductType: "定期預金", MaturesToDays: 90})})
	if err != nil {
		t.Fatal(err)
	}
	seg.Name = "満期90日（本店）"
	if _, err := svc.Save(ctx, "staff:sato", seg); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Save(ctx, "staff:sato", Segment{Name: "満期90日（本店）", Rules: and()}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("duplicate name: %v", err)
	}
	list, _ := svc.List(ctx)
	if len(list) != 1 || list[0].Rules.Cond == nil || list[0].Rules.Cond.MaturesToDays != 90 {
		t.Fatalf("List = %+v", list)
	}
	if err := svc.Delete(ctx, "staff:sato", seg.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Get(ctx, seg.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get after delete: %v", err)
	}
	entries, _ := audit.List(ctx, db.Reader(), audit.Filter{})
	n := 0
	for _, e := range entries {
		if e.Action == ActionSave || e.Action == ActionDelete {
			n++
		}
	}
	if n != 3 {
		t.Fatalf("%d segment audit entries, want 3", n)
	}
}

func TestZeroRulesMeanEveryone(t *testing.T) {
	db := newDB(t)
	load(t, db, population(30))
	svc := New(db, clock, nil)
	ctx := context.Background()
	c, err := svc.Count(ctx, Node{})
	if err != nil || c.Total != 30 {
		t.Fatalf("Count(zero) = %+v, %v", c, err)
	}
	if _, err := svc.Save(ctx, "staff:sato", Segment{Name: "全員"}); err != nil {
		t.Fatal(err)
	}
	list, err := svc.List(ctx)
	if err != nil || len(list) != 1 || list[0].Rules.Op != "and" {
		t.Fatalf("List = %+v, %v", list, err)
	}
}

// The preview says why each customer matched a product condition: the
// product and its date. A product condition under NOT (matched by having
// none) gives no reason, and other conditions none.
func TestPreviewShowsTheMatchedProduct(t *testing.T) {
	db := newDB(t)
	fs := population(60)
	load(t, db, fs)
	svc := New(db, clock, nil)
	ctx := context.Background()
	soon := cond(Condition{Kind: KindProduct, ProductType: "定期預金", MaturesFromDays: 0, MaturesToDays: 60})
	p, err := svc.Preview(ctx, or(soon, cond(Condition{Kind: KindTag, Value: "VIP"})), 0, 60)
	if err != nil {
		t.Fatal(err)
	}
	byNo := map[string]Row{}
	for _, r := range p.Rows {
		byNo[r.CustomerNo] = r
	}
	checked := 0
	for _, f := range fs {
		r, ok := byNo[fmt.Sprintf("N%05d", f.i)]
		if !ok {
			continue
		}
		hit := f.product == "定期預金" && !f.closed && f.matures >= 0 && f.matures <= 60
		if !hit {
			if len(r.Matches) != 0 {
				t.Errorf("%s (tag only) has reasons %+v", r.CustomerNo, r.Matches)
			}
			continue
		}
		want := today.AddDate(0, 0, f.matures).Format("2006-01-02")
		if len(r.Matches) != 1 || r.Matches[0].ProductType != "定期預金" || r.Matches[0].MaturesOn != want {
			t.Errorf("%s: reasons %+v, want 定期預金 %s", r.CustomerNo, r.Matches, want)
		}
		checked++
	}
	if checked == 0 {
		t.Fatal("no customer matched the product condition: the fixture does not test anything")
	}
	p, err = svc.Preview(ctx, not(cond(Condition{Kind: KindProduct, ProductType: "住宅ローン"})), 0, 60)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range p.Rows {
		if len(r.Matches) != 0 {
			t.Errorf("%s: reasons %+v under NOT", r.CustomerNo, r.Matches)
		}
	}
}

// A wrong condition names itself by its path in the tree's JSON, every one
// at once, so the editor can mark each (issue 19 item 6); Save puts the
// paths under "rules" next to the name's own.
func TestValidationNamesTheWrongFields(t *testing.T) {
	tree := and(
		cond(Condition{Kind: KindTag, Value: "年金"}),
		cond(Condition{Kind: KindField, Field: "age", MinAge: 60, MaxAge: 40}),
		or(
			cond(Condition{Kind: KindProduct}),
			cond(Condition{Kind: KindLastContact, Direction: "in", Days: 4000}),
		),
		not(cond(Condition{Kind: KindField, Field: "postal_prefix", Value: "18a"})),
	)
	want := []fielderr.FieldError{
		{Field: "children.1.cond.maxAge", Code: fielderr.Range},
		{Field: "children.2.children.0.cond.productType", Code: fielderr.Required},
		{Field: "children.2.children.1.cond.days", Code: fielderr.AtMost, Max: MaxLastContactDays},
		{Field: "children.3.cond.value", Code: fielderr.Format},
	}
	err := tree.Validate()
	if !errors.Is(err, ErrInvalid) {
		t.Fatalf("Validate = %v, want ErrInvalid", err)
	}
	if got := fielderr.Fields(err); !reflect.DeepEqual(got, want) {
		t.Fatalf("fields\n got %+v\nwant %+v", got, want)
	}
	// A condition at the root is "cond"; too many conditions is the tree itself.
	if got := fielderr.Fields(cond(Condition{Kind: KindTag}).Validate()); !reflect.DeepEqual(got, []fielderr.FieldError{{Field: "cond.value", Code: fielderr.Required}}) {
		t.Errorf("root condition: %+v", got)
	}
	many := and()
	for range MaxConditions + 1 {
		many.Children = append(many.Children, cond(Condition{Kind: KindTag, Value: "a"}))
	}
	if got := fielderr.Fields(many.Validate()); !reflect.DeepEqual(got, []fielderr.FieldError{{Field: "", Code: fielderr.TooMany, Max: MaxConditions}}) {
		t.Errorf("too many: %+v", got)
	}
	// A malformed shape has no field to mark.
	if err := (Node{Op: "xor"}).Validate(); !errors.Is(err, ErrInvalid) || fielderr.Fields(err) != nil {
		t.Errorf("bad op: %v", err)
	}

	svc := New(newDB(t), clock, nil)
	ctx := context.Background()
	_, err = svc.Save(ctx, "staff:sato", Segment{Name: "  ", Rules: and(cond(Condition{Kind: KindAttribute, Cmp: "eq", Value: "x"}))})
	if got := fielderr.Fields(err); !errors.Is(err, ErrInvalid) || !reflect.DeepEqual(got, []fielderr.FieldError{
		{Field: "name", Code: fielderr.Required},
		{Field: "rules.children.0.cond.key", Code: fielderr.Required},
	}) {
		t.Fatalf("Save = %v, fields %+v", err, got)
	}
	if _, err := svc.Save(ctx, "staff:sato", Segment{Name: "年金受給者", Rules: and()}); err != nil {
		t.Fatal(err)
	}
	// A name in use is said together with a wrong condition.
	_, err = svc.Save(ctx, "staff:sato", Segment{Name: "年金受給者", Rules: and(cond(Condition{Kind: KindTag}))})
	if got := fielderr.Fields(err); !errors.Is(err, ErrInvalid) || !reflect.DeepEqual(got, []fielderr.FieldError{
		{Field: "name", Code: fielderr.Taken},
		{Field: "rules.children.0.cond.value", Code: fielderr.Required},
	}) {
		t.Fatalf("taken name: %v, fields %+v", err, got)
	}
	_, err = svc.Save(ctx, "staff:sato", Segment{Name: strings.Repeat("長", MaxName+1), Rules: and()})
	if got := fielderr.Fields(err); !reflect.DeepEqual(got, []fielderr.FieldError{{Field: "name", Code: fielderr.TooLong, Max: MaxName}}) {
		t.Fatalf("long name: %v, fields %+v", err, got)
	}
}
