package segment

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"tsunagu/internal/audit"
	"tsunagu/internal/customer"
	"tsunagu/internal/fielderr"
	"tsunagu/internal/store"
)

// ErrNotFound means no saved segment has the ID.
var ErrNotFound = errors.New("segment: not found")

// Audit actions of saved segments.
const (
	ActionSave   = "segment.save"
	ActionDelete = "segment.delete"
)

// Contact expressions: where a customer's email address and mobile number
// are read. The imported value is a column of customers (migration 0007);
// staff may add others by hand in contact_points. Everything that reaches
// people reads them through these two functions.
func EmailExpr(alias string) string {
	return "coalesce(nullif(" + alias + ".email, ''), (SELECT p.value FROM contact_points p WHERE p.customer_id = " + alias +
		".id AND p.kind = 'email' ORDER BY p.id LIMIT 1), '')"
}

// MobileExpr is EmailExpr for the mobile number (digits only).
func MobileExpr(alias string) string {
	return "coalesce(nullif(" + alias + ".mobile, ''), (SELECT p.value FROM contact_points p WHERE p.customer_id = " + alias +
		".id AND p.kind = 'mobile' ORDER BY p.id LIMIT 1), '')"
}

// ConsentExpr is "the customer row alias granted consent for channel"
// (a fixed channel name, never user input: its column name comes from the
// switch in customer.ConsentColumn). Consents are columns of customers (migration
// 0015): NULL without a record, so the test is IS 1, which is never NULL
// and stays right under a NOT. It panics on an unknown channel.
func ConsentExpr(alias, channel string) string {
	col, ok := customer.ConsentColumn(channel)
	if !ok {
		panic("segment: unknown channel " + channel)
	}
	return "(" + alias + "." + col + " IS 1)"
}

// Counts are a segment's live counts while editing.
type Counts struct {
	Total  int   `json:"total"`  // customers the rules match
	Active int   `json:"active"` // of which active
	Line   int   `json:"line"`   // active, LINE-reachable and LINE consent
	Email  int   `json:"email"`  // active, email consent and an address
	SMS    int   `json:"sms"`    // active, SMS consent and a mobile number
	Ms     int64 `json:"ms"`     // how long the count took
}

// Segment is a saved segment.
type Segment struct {
	ID        int64  `json:"id"`
	Name      string `json:"name"`
	Rules     Node   `json:"rules"`
	CreatedBy string `json:"createdBy"`
	UpdatedBy string `json:"updatedBy"`
	UpdatedAt int64  `json:"updatedAt"`
}

// Row is one customer of a preview.
type Row struct {
	ID         int64    `json:"id"`
	CustomerNo string   `json:"customerNo"`
	Name       string   `json:"name"`
	Branch     string   `json:"branch"`
	Status     string   `json:"status"`
	Email      string   `json:"email"`
	Mobile     string   `json:"mobile"`
	Linked     bool     `json:"linked"`
	Following  bool     `json:"following"`
	Consents   []string `json:"consents"` // channels with consent granted
	// Matches says why the customer is in the segment where a product
	// condition put them there: the products that meet it.
	Matches []Match `json:"matches"`
}

// Match is a product of a previewed customer that meets a product
// condition of the rules (e.g. 定期預金 maturing 2027-01-15).
type Match struct {
	ProductType string `json:"productType"`
	ProductCode string `json:"productCode"`
	OpenedOn    string `json:"openedOn"`  // YYYY-MM-DD or ""
	MaturesOn   string `json:"maturesOn"` // YYYY-MM-DD or ""
}

// Preview is one page of a segment's customers.
type Preview struct {
	Total  int   `json:"total"`
	Offset int   `json:"offset"`
	Rows   []Row `json:"rows"`
}

// Service evaluates and stores segments.
type Service struct {
	db  *store.DB
	cp  *Compiler
	now func() time.Time
}

// New returns a service over db; exts compile extension kinds (surveys).
func New(db *store.DB, clock func() time.Time, exts map[string]Extension) *Service {
	if clock == nil {
		clock = time.Now
	}
	return &Service{db: db, cp: NewCompiler(clock, nil, exts), now: clock}
}

// Compiler is the service's compiler (package campaign resolves recipients with it).
func (s *Service) Compiler() *Compiler { return s.cp }

// Count evaluates n and counts its customers per channel in one query.
func (s *Service) Count(ctx context.Context, n Node) (Counts, error) {
	q, err := s.cp.Compile(n)
	if err != nil {
		return Counts{}, err
	}
	start := time.Now()
	var c Counts
	// Consents are columns of the row; the LINE state is a primary-key
	// lookup per customer of the segment (links), cheap for the segments
	// people build.
	err = s.db.Reader().QueryRowContext(ctx, `
		WITH seg AS (SELECT c.id, c.status, c.consent_line, c.consent_email, c.consent_sms,
		                    `+EmailExpr("c")+` AS email, `+MobileExpr("c")+` AS mobile FROM customers c WHERE `+q.Where+`)
		SELECT count(*),
		       count(*) FILTER (WHERE seg.status = 'active'),
		       count(*) FILTER (WHERE seg.status = 'active' AND `+ConsentExpr("seg", "line")+` AND EXISTS (
		                        SELECT 1 FROM customer_line_links l JOIN line_users u ON u.user_id = l.line_user_id
		                        WHERE l.customer_id = seg.id AND u.follow_state = 'following' AND u.unreachable_at IS NULL)),
		       count(*) FILTER (WHERE seg.status = 'active' AND `+ConsentExpr("seg", "email")+` AND seg.email <> ''),
		       count(*) FILTER (WHERE seg.status = 'active' AND `+ConsentExpr("seg", "sms")+` AND seg.mobile <> '')
		FROM seg`, q.Args...).Scan(&c.Total, &c.Active, &c.Line, &c.Email, &c.SMS)
	if err != nil {
		return Counts{}, fmt.Errorf("segment: count: %w", err)
	}
	c.Ms = time.Since(start).Milliseconds()
	return c, nil
}

// MaxPage is the largest preview page.
const MaxPage = 200

// Preview lists a page of the segment's customers, by customer number.
func (s *Service) Preview(ctx context.Context, n Node, offset, limit int) (Preview, error) {
	q, err := s.cp.Compile(n)
	if err != nil {
		return Preview{}, err
	}
	if limit <= 0 || limit > MaxPage {
		limit = 50
	}
	offset = max(offset, 0)
	p := Preview{Offset: offset, Rows: []Row{}}
	if err := s.db.Reader().QueryRowContext(ctx, `SELECT count(*) FROM customers c WHERE `+q.Where, q.Args...).Scan(&p.Total); err != nil {
		return Preview{}, fmt.Errorf("segment: preview: %w", err)
	}
	rows, err := s.db.Reader().QueryContext(ctx, `
		SELECT c.id, c.customer_no, c.name, c.branch, c.status, `+EmailExpr("c")+`, `+MobileExpr("c")+`,
		       EXISTS (SELECT 1 FROM customer_line_links l WHERE l.customer_id = c.id),
		       EXISTS (SELECT 1 FROM customer_line_links l JOIN line_users u ON u.user_id = l.line_user_id
		               WHERE l.customer_id = c.id AND u.follow_state = 'following' AND u.unreachable_at IS NULL),
		       -- the granted channels in name order, as the consents table listed them
		       concat_ws(',', CASE WHEN `+ConsentExpr("c", "email")+` THEN 'email' END, CASE WHEN `+ConsentExpr("c", "line")+` THEN 'line' END,
		                      CASE WHEN `+ConsentExpr("c", "postal")+` THEN 'postal' END, CASE WHEN `+ConsentExpr("c", "sms")+` THEN 'sms' END)
		FROM customers c WHERE `+q.Where+` ORDER BY c.customer_no LIMIT ? OFFSET ?`, append(q.Args, limit, offset)...)
	if err != nil {
		return Preview{}, fmt.Errorf("segment: preview: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			r        Row
			consents string
		)
		if err := rows.Scan(&r.ID, &r.CustomerNo, &r.Name, &r.Branch, &r.Status, &r.Email, &r.Mobile, &r.Linked, &r.Following, &consents); err != nil {
			return Preview{}, fmt.Errorf("segment: preview: %w", err)
		}
		r.Consents = []string{}
		if consents != "" {
			r.Consents = strings.Split(consents, ",")
		}
		r.Matches = []Match{}
		p.Rows = append(p.Rows, r)
	}
	if err := rows.Err(); err != nil {
		return Preview{}, fmt.Errorf("segment: preview: %w", err)
	}
	if err := s.matches(ctx, n, p.Rows); err != nil {
		return Preview{}, err
	}
	return p, nil
}

// matches fills each row's Matches: for every product condition the rules
// require (not under a NOT, which matches by absence), the products of the
// page's customers that meet it, soonest maturity first, each product
// once.
func (s *Service) matches(ctx context.Context, n Node, page []Row) error {
	conds := productConds(n, false, nil)
	if len(conds) == 0 || len(page) == 0 {
		return nil
	}
	at := make(map[int64]int, len(page))
	ids := make([]string, 0, len(page))
	for i, r := range page {
		at[r.ID] = i
		ids = append(ids, strconv.FormatInt(r.ID, 10))
	}
	seen := map[int64]bool{}
	for _, c := range conds {
		where, args := s.cp.productWhere(*c)
		if where == "" {
			where = "1"
		}
		// The IDs are integers of our own, not input.
		rows, err := s.db.Reader().QueryContext(ctx, `SELECT p.id, p.customer_id, p.type, p.product_code, p.opened_on, p.matures_on
			FROM products p WHERE p.customer_id IN (`+strings.Join(ids, ",")+`) AND `+where+`
			ORDER BY p.matures_on = '', p.matures_on, p.id`, args...)
		if err != nil {
			return fmt.Errorf("segment: preview reasons: %w", err)
		}
		for rows.Next() {
			var (
				id, cust int64
				m        Match
			)
			if err := rows.Scan(&id, &cust, &m.ProductType, &m.ProductCode, &m.OpenedOn, &m.MaturesOn); err != nil {
				rows.Close()
				return fmt.Errorf("segment: preview reasons: %w", err)
			}
			if !seen[id] {
				seen[id] = true
				page[at[cust]].Matches = append(page[at[cust]].Matches, m)
			}
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return fmt.Errorf("segment: preview reasons: %w", err)
		}
	}
	return nil
}

// productConds collects the product conditions of n that a customer meets
// by holding a product: those under an even number of NOTs.
func productConds(n Node, negated bool, out []*Condition) []*Condition {
	negated = negated != n.Not
	if n.Cond != nil {
		if n.Cond.Kind == KindProduct && !negated {
			out = append(out, n.Cond)
		}
		return out
	}
	for _, ch := range n.Children {
		out = productConds(ch, negated, out)
	}
	return out
}

// MaxName is the longest segment name in characters.
const MaxName = 100

// Save stores a segment (id 0: a new one) and audits it.
func (s *Service) Save(ctx context.Context, actor string, seg Segment) (Segment, error) {
	seg.Name = strings.TrimSpace(seg.Name)
	// Every wrong field at once, by its path in the Segment the editor sent.
	var l fielderr.List
	if seg.Name == "" {
		l.Add("name", fielderr.Required)
	} else if len([]rune(seg.Name)) > MaxName {
		l.AddMax("name", fielderr.TooLong, MaxName)
	} else {
		// Said with the other fields; the UNIQUE column still decides a race.
		var n int
		if err := s.db.Reader().QueryRowContext(ctx, `SELECT count(*) FROM segments WHERE name = ? AND id != ?`, seg.Name, seg.ID).Scan(&n); err != nil {
			return Segment{}, fmt.Errorf("segment: save: %w", err)
		}
		if n > 0 {
			l.Add("name", fielderr.Taken)
		}
	}
	seg.Rules = seg.Rules.orEmpty()
	if err := seg.Rules.Validate(); err != nil && !l.Merge(fielderr.Under("rules", err)) {
		return Segment{}, err
	}
	if err := l.Err(ErrInvalid); err != nil {
		return Segment{}, err
	}
	if _, err := s.cp.Compile(seg.Rules); err != nil {
		return Segment{}, err
	}
	now := s.now().UnixMilli()
	err := s.db.Write(ctx, func(tx *sql.Tx) error {
		if seg.ID == 0 {
			res, err := tx.ExecContext(ctx, `INSERT INTO segments (name, rules, created_by, created_at, updated_by, updated_at) VALUES (?, ?, ?, ?, ?, ?)`,
				seg.Name, seg.Rules.JSON(), actor, now, actor, now)
			if err != nil {
				return fmt.Errorf("segment: save: %w", err)
			}
			seg.ID, _ = res.LastInsertId()
			seg.CreatedBy = actor
		} else {
			res, err := tx.ExecContext(ctx, `UPDATE segments SET name = ?, rules = ?, updated_by = ?, updated_at = ? WHERE id = ?`,
				seg.Name, seg.Rules.JSON(), actor, now, seg.ID)
			if err != nil {
				return fmt.Errorf("segment: save: %w", err)
			}
			if n, _ := res.RowsAffected(); n == 0 {
				return ErrNotFound
			}
		}
		seg.UpdatedBy, seg.UpdatedAt = actor, now
		_, err := audit.Record(ctx, tx, audit.Entry{At: now, Actor: actor, Action: ActionSave, Target: "segment:" + strconv.FormatInt(seg.ID, 10)})
		return err
	})
	if err != nil {
		if store.IsUnique(err) {
			return Segment{}, fielderr.New(ErrInvalid, "name", fielderr.Taken)
		}
		return Segment{}, err
	}
	return seg, nil
}

// Delete removes a saved segment (campaigns keep their own copy of the rules).
func (s *Service) Delete(ctx context.Context, actor string, id int64) error {
	now := s.now().UnixMilli()
	return s.db.Write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM segments WHERE id = ?`, id)
		if err != nil {
			return fmt.Errorf("segment: delete: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrNotFound
		}
		_, err = audit.Record(ctx, tx, audit.Entry{At: now, Actor: actor, Action: ActionDelete, Target: "segment:" + strconv.FormatInt(id, 10)})
		return err
	})
}

// Get returns a saved segment.
func (s *Service) Get(ctx context.Context, id int64) (Segment, error) {
	list, err := s.list(ctx, `WHERE id = ?`, id)
	if err != nil {
		return Segment{}, err
	}
	if len(list) == 0 {
		return Segment{}, ErrNotFound
	}
	return list[0], nil
}

// List returns the saved segments by name.
func (s *Service) List(ctx context.Context) ([]Segment, error) {
	return s.list(ctx, `ORDER BY name`)
}

func (s *Service) list(ctx context.Context, tail string, args ...any) ([]Segment, error) {
	rows, err := s.db.Reader().QueryContext(ctx, `SELECT id, name, rules, created_by, updated_by, updated_at FROM segments `+tail, args...)
	if err != nil {
		return nil, fmt.Errorf("segment: list: %w", err)
	}
	defer rows.Close()
	out := []Segment{}
	for rows.Next() {
		var (
			seg   Segment
			rules string
		)
		if err := rows.Scan(&seg.ID, &seg.Name, &rules, &seg.CreatedBy, &seg.UpdatedBy, &seg.UpdatedAt); err != nil {
			return nil, fmt.Errorf("segment: list: %w", err)
		}
		if seg.Rules, err = Parse([]byte(rules)); err != nil {
			return nil, fmt.Errorf("segment %d: %w", seg.ID, err)
		}
		out = append(out, seg)
	}
	return out, rows.Err()
}
