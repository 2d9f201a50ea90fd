// Package customer is the institution's customer model: customers and their
// contact points, consents per channel, products, typed custom attributes,
// tags and the link to a LINE user. It owns the queries on those tables
// (schema: internal/store/migrations/0003_customers.sql); the importer writes
// the same tables in bulk.
package customer

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"tsunagu/internal/store"
	"tsunagu/internal/textfold"
)

// Errors callers may test with errors.Is.
var (
	ErrNotFound      = errors.New("customer not found")
	ErrAlreadyLinked = errors.New("the customer or the LINE user is already linked")
	ErrInvalid       = errors.New("invalid value")
)

// Channels a consent is recorded for.
const (
	ChannelLINE   = "line"
	ChannelEmail  = "email"
	ChannelSMS    = "sms"
	ChannelPostal = "postal"
)

// Channels lists every consent channel.
var Channels = []string{ChannelLINE, ChannelEmail, ChannelSMS, ChannelPostal}

// ConsentColumn names the customers column holding the consent for channel
// (NULL: no record, 0: refused, 1: granted; migration 0015), and beside it
// <column>_source and <column>_at. The name comes from this switch, never
// from the caller, so it may be put into SQL; ok is false for an unknown
// channel. Ask "<column> IS 1": "= 1" is NULL without a record, and a NOT
// around it would then drop that customer.
func ConsentColumn(channel string) (column string, ok bool) {
	switch channel {
	case ChannelLINE:
		return "consent_line", true
	case ChannelEmail:
		return "consent_email", true
	case ChannelSMS:
		return "consent_sms", true
	case ChannelPostal:
		return "consent_postal", true
	}
	return "", false
}

// Customer is one row of the customer list.
type Customer struct {
	ID            int64  `json:"id"`
	CustomerNo    string `json:"customerNo"`
	Name          string `json:"name"`
	NameKana      string `json:"nameKana"`
	BirthDate     string `json:"birthDate"`
	Gender        string `json:"gender"`
	PostalCode    string `json:"postalCode"`
	Address       string `json:"address"`
	Branch        string `json:"branch"`
	StaffInCharge string `json:"staffInCharge"`
	Status        string `json:"status"`
	Phone         string `json:"phone"` // first phone or mobile, for the list
	// PhoneDisplay is Phone as people read it (FormatPhone), for display
	// only: code that compares numbers uses Phone.
	PhoneDisplay string `json:"phoneDisplay"`
	Email        string `json:"email"` // first email, for the list
	LineLinked   bool   `json:"lineLinked"`
	CreatedAt    int64  `json:"createdAt"`
	UpdatedAt    int64  `json:"updatedAt"`
	// Version goes up with every change to the customer (migration 0030);
	// an edit from the card sends it back (From) and is refused if it
	// moved since.
	Version int64 `json:"version"`
}

// ContactPoint is a phone number or email address.
type ContactPoint struct {
	Kind  string `json:"kind"` // phone, mobile, email
	Value string `json:"value"`
	// Display is Value as people read it (FormatPhone for a number), for
	// display only: linking and other comparisons use Value.
	Display string `json:"display"`
	Source  string `json:"source"`
}

// Consent is the latest decision of a customer for one channel.
type Consent struct {
	Channel    string `json:"channel"`
	Granted    bool   `json:"granted"`
	Source     string `json:"source"`
	RecordedAt int64  `json:"recordedAt"`
}

// Product is a contract the customer holds.
type Product struct {
	ID          int64  `json:"id"`
	Type        string `json:"type"`
	ProductCode string `json:"productCode"`
	AccountNo   string `json:"accountNo"`
	OpenedOn    string `json:"openedOn"`
	MaturesOn   string `json:"maturesOn"`
	Status      string `json:"status"`
	AmountBand  string `json:"amountBand"`
	Source      string `json:"source"` // import or manual
}

// Attribute is a custom attribute's value on a customer.
type Attribute struct {
	Key   string `json:"key"`
	Label string `json:"label"`
	Type  string `json:"type"`
	Value string `json:"value"`
}

// LineLink is the customer's LINE user, with the inbox's follow state.
type LineLink struct {
	LineUserID     string `json:"lineUserId"`
	DisplayName    string `json:"displayName"`
	FollowState    string `json:"followState"`
	LinkedAt       int64  `json:"linkedAt"`
	Method         string `json:"method"`
	ConversationID int64  `json:"conversationId"` // 0: no conversation yet
}

// Card is everything shown on one customer's card.
type Card struct {
	Customer
	ContactPoints []ContactPoint `json:"contactPoints"`
	Consents      []Consent      `json:"consents"`
	Products      []Product      `json:"products"`
	Attributes    []Attribute    `json:"attributes"`
	Tags          []string       `json:"tags"`
	Line          *LineLink      `json:"line"`
	// ChangedBy and ChangedAt name the newest audited change (the actor as
	// recorded, "staff:<login>"; unix ms): who changed the card when an
	// edit was refused as stale. Empty and 0 if the trail has none.
	ChangedBy string `json:"changedBy"`
	ChangedAt int64  `json:"changedAt"`
}

// Filter selects customers for the list. Zero values select everything.
type Filter struct {
	Query      string `json:"query"`      // customer number, name, kana, phone or email
	Branch     string `json:"branch"`     // exact
	Status     string `json:"status"`     // active, inactive or '' for both
	Tag        string `json:"tag"`        // exact tag name
	LineLinked string `json:"lineLinked"` // 'yes', 'no' or ''
	Consent    string `json:"consent"`    // a channel the customer consented to, or ''
	NoConsent  string `json:"noConsent"`  // a channel without consent (refused or never asked), or ''
	Limit      int    `json:"limit"`      // 0: DefaultLimit
	Offset     int    `json:"offset"`
}

// Page is one page of the list and the total that matched.
type Page struct {
	Customers []Customer `json:"customers"`
	Total     int        `json:"total"`
}

// DefaultLimit is the page size when a Filter gives none.
const DefaultLimit = 100

// Service reads and changes customers on the store.
type Service struct {
	db  *store.DB
	now func() time.Time
}

// New returns a Service over db. clock nil means time.Now.
func New(db *store.DB, clock func() time.Time) *Service {
	if clock == nil {
		clock = time.Now
	}
	return &Service{db: db, now: clock}
}

const listColumns = `c.id, c.customer_no, c.name, c.name_kana, c.birth_date, c.gender, c.postal_code, c.address,
	c.branch, c.staff_in_charge, c.status, c.created_at, c.updated_at, c.version,
	coalesce(nullif(c.mobile, ''), nullif(c.phone, ''), (SELECT value FROM contact_points p WHERE p.customer_id = c.id AND p.kind IN ('mobile','phone') ORDER BY p.kind = 'phone', p.id LIMIT 1), ''),
	coalesce(nullif(c.email, ''), (SELECT value FROM contact_points p WHERE p.customer_id = c.id AND p.kind = 'email' ORDER BY p.id LIMIT 1), ''),
	EXISTS (SELECT 1 FROM customer_line_links l WHERE l.customer_id = c.id)`

func scanCustomer(s interface{ Scan(...any) error }) (Customer, error) {
	var c Customer
	err := s.Scan(&c.ID, &c.CustomerNo, &c.Name, &c.NameKana, &c.BirthDate, &c.Gender, &c.PostalCode, &c.Address,
		&c.Branch, &c.StaffInCharge, &c.Status, &c.CreatedAt, &c.UpdatedAt, &c.Version, &c.Phone, &c.Email, &c.LineLinked)
	c.PhoneDisplay = FormatPhone(c.Phone)
	return c, err
}

// List returns the customers matching f, ordered by customer number.
func (s *Service) List(ctx context.Context, f Filter) (Page, error) {
	where, args := f.where()
	page := Page{Customers: []Customer{}}
	if err := s.db.Reader().QueryRowContext(ctx, `SELECT count(*) FROM customers c `+where, args...).Scan(&page.Total); err != nil {
		return page, fmt.Errorf("count customers: %w", err)
	}
	limit := f.Limit
	if limit <= 0 || limit > 1000 {
		limit = DefaultLimit
	}
	rows, err := s.db.Reader().QueryContext(ctx, `SELECT `+listColumns+` FROM customers c `+where+
		` ORDER BY c.customer_no LIMIT ? OFFSET ?`, append(args, limit, max(f.Offset, 0))...)
	if err != nil {
		return page, fmt.Errorf("list customers: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		c, err := scanCustomer(rows)
		if err != nil {
			return page, fmt.Errorf("list customers: %w", err)
		}
		page.Customers = append(page.Customers, c)
	}
	return page, rows.Err()
}

// where builds the WHERE clause of a filter. The search query is matched as
// typed and in its normalized forms (digits only for phones, katakana for
// kana, lowercase for email), so 090-1234-5678 finds 09012345678.
func (f Filter) where() (string, []any) {
	var conds []string
	var args []any
	if q := strings.TrimSpace(f.Query); q != "" {
		// Names and kana compare as search keys (textfold.Fold, in SQL
		// tsunagu_fold): widths, hiragana/katakana, 異体字 (髙橋 is 高橋),
		// case and spaces fold the same way on both sides.
		key := "%" + escapeLike(textfold.Fold(q)) + "%"
		fold := textfold.SQLFunc
		alts := []string{
			`c.customer_no LIKE ? ESCAPE '\'`, fold + `(c.name) LIKE ? ESCAPE '\'`, fold + `(c.name_kana) LIKE ? ESCAPE '\'`,
		}
		// The number in its one form (NormalizeCustomerNo); LIKE ignores
		// ASCII case, so a search finds a number typed in either case.
		no := "%" + escapeLike(NormalizeCustomerNo(q)) + "%"
		args = append(args, no, key, key)
		// Imported contacts are columns of customers; contact_points holds
		// the ones entered by hand (migration 0007).
		email := "%" + escapeLike(strings.ToLower(NormalizeText(q))) + "%"
		alts = append(alts, `c.email LIKE ? ESCAPE '\'`)
		args = append(args, email)
		cp := []string{`p.value LIKE ? ESCAPE '\'`}
		cpArgs := []any{email}
		if d := digitsOnly(q); len(d) >= 3 {
			alts = append(alts, `c.phone LIKE ?`, `c.mobile LIKE ?`)
			args = append(args, "%"+d+"%", "%"+d+"%")
			cp = append(cp, `p.value LIKE ?`)
			cpArgs = append(cpArgs, "%"+d+"%")
		}
		alts = append(alts, `EXISTS (SELECT 1 FROM contact_points p WHERE p.customer_id = c.id AND (`+strings.Join(cp, " OR ")+`))`)
		args = append(args, cpArgs...)
		conds = append(conds, "("+strings.Join(alts, " OR ")+")")
	}
	if f.Branch != "" {
		conds = append(conds, `c.branch = ?`)
		args = append(args, f.Branch)
	}
	if f.Status != "" {
		conds = append(conds, `c.status = ?`)
		args = append(args, f.Status)
	}
	if f.Tag != "" {
		conds = append(conds, `EXISTS (SELECT 1 FROM customer_tags ct JOIN tags t ON t.id = ct.tag_id WHERE ct.customer_id = c.id AND t.name = ?)`)
		args = append(args, f.Tag)
	}
	if f.Consent != "" {
		conds = append(conds, consentCond(f.Consent, true))
	}
	if f.NoConsent != "" {
		conds = append(conds, consentCond(f.NoConsent, false))
	}
	switch f.LineLinked {
	case "yes":
		conds = append(conds, `EXISTS (SELECT 1 FROM customer_line_links l WHERE l.customer_id = c.id)`)
	case "no":
		conds = append(conds, `NOT EXISTS (SELECT 1 FROM customer_line_links l WHERE l.customer_id = c.id)`)
	}
	if len(conds) == 0 {
		return "", nil
	}
	return "WHERE " + strings.Join(conds, " AND "), args
}

// consentCond is "granted consent for channel" (or, with granted false,
// "not granted": refused or no record). An unknown channel has no
// consents, as before the columns.
func consentCond(channel string, granted bool) string {
	col, ok := ConsentColumn(channel)
	switch {
	case !ok:
		return map[bool]string{true: "0", false: "1"}[granted]
	case granted:
		return "c." + col + " IS 1"
	}
	return "c." + col + " IS NOT 1"
}

// Branches lists the branches that customers belong to, for the filter.
func (s *Service) Branches(ctx context.Context) ([]string, error) {
	return s.strings(ctx, `SELECT DISTINCT branch FROM customers WHERE branch <> '' ORDER BY branch`)
}

// Tags lists all tag names.
func (s *Service) Tags(ctx context.Context) ([]string, error) {
	return s.strings(ctx, `SELECT name FROM tags ORDER BY name`)
}

func (s *Service) strings(ctx context.Context, q string, args ...any) ([]string, error) {
	rows, err := s.db.Reader().QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []string{}
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// Card returns one customer with everything attached.
func (s *Service) Card(ctx context.Context, id int64) (Card, error) {
	r := s.db.Reader()
	c, err := scanCustomer(r.QueryRowContext(ctx, `SELECT `+listColumns+` FROM customers c WHERE c.id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Card{}, fmt.Errorf("customer %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return Card{}, fmt.Errorf("customer %d: %w", id, err)
	}
	card := Card{Customer: c, ContactPoints: []ContactPoint{}, Consents: []Consent{}, Products: []Product{}, Attributes: []Attribute{}}
	// The imported values (columns of customers) first, then the ones
	// entered by hand.
	if err := each(ctx, r, `SELECT kind, value, source FROM (
			SELECT 0 AS o, 'email' AS kind, email AS value, 'import' AS source FROM customers WHERE id = ?1 AND email <> ''
			UNION ALL SELECT 0, 'mobile', mobile, 'import' FROM customers WHERE id = ?1 AND mobile <> ''
			UNION ALL SELECT 0, 'phone', phone, 'import' FROM customers WHERE id = ?1 AND phone <> ''
			UNION ALL SELECT id, kind, value, source FROM contact_points WHERE customer_id = ?1)
		ORDER BY kind, o`, []any{id}, func(rows *sql.Rows) error {
		var p ContactPoint
		err := rows.Scan(&p.Kind, &p.Value, &p.Source)
		p.Display = p.Value
		if p.Kind != "email" {
			p.Display = FormatPhone(p.Value)
		}
		card.ContactPoints = append(card.ContactPoints, p)
		return err
	}); err != nil {
		return Card{}, fmt.Errorf("customer %d contact points: %w", id, err)
	}
	if card.Consents, err = consents(ctx, r, id); err != nil {
		return Card{}, fmt.Errorf("customer %d consents: %w", id, err)
	}
	if err := each(ctx, r, `SELECT id, type, product_code, account_no, opened_on, matures_on, status, amount_band, source FROM products WHERE customer_id = ? ORDER BY status, opened_on, id`, []any{id}, func(rows *sql.Rows) error {
		var p Product
		err := rows.Scan(&p.ID, &p.Type, &p.ProductCode, &p.AccountNo, &p.OpenedOn, &p.MaturesOn, &p.Status, &p.AmountBand, &p.Source)
		card.Products = append(card.Products, p)
		return err
	}); err != nil {
		return Card{}, fmt.Errorf("customer %d products: %w", id, err)
	}
	if err := each(ctx, r, `SELECT d.key, d.label, d.type, a.value FROM customer_attributes a JOIN attribute_defs d ON d.id = a.attr_id WHERE a.customer_id = ? ORDER BY d.label`, []any{id}, func(rows *sql.Rows) error {
		var a Attribute
		err := rows.Scan(&a.Key, &a.Label, &a.Type, &a.Value)
		card.Attributes = append(card.Attributes, a)
		return err
	}); err != nil {
		return Card{}, fmt.Errorf("customer %d attributes: %w", id, err)
	}
	if card.Tags, err = s.strings(ctx, `SELECT t.name FROM customer_tags ct JOIN tags t ON t.id = ct.tag_id WHERE ct.customer_id = ? ORDER BY t.name`, id); err != nil {
		return Card{}, fmt.Errorf("customer %d tags: %w", id, err)
	}
	if card.ChangedBy, card.ChangedAt, err = lastChange(ctx, r, id); err != nil {
		return Card{}, fmt.Errorf("customer %d last change: %w", id, err)
	}
	var l LineLink
	err = r.QueryRowContext(ctx, `SELECT l.line_user_id, u.display_name, u.follow_state, l.linked_at, l.method, coalesce(cv.id, 0)
		FROM customer_line_links l JOIN line_users u ON u.user_id = l.line_user_id
		LEFT JOIN conversations cv ON cv.line_user_id = l.line_user_id WHERE l.customer_id = ?`, id).
		Scan(&l.LineUserID, &l.DisplayName, &l.FollowState, &l.LinkedAt, &l.Method, &l.ConversationID)
	switch {
	case err == nil:
		card.Line = &l
	case !errors.Is(err, sql.ErrNoRows):
		return Card{}, fmt.Errorf("customer %d LINE link: %w", id, err)
	}
	return card, nil
}

// consents reads a customer's consent columns: the channels with a
// record, ordered by channel name (as the card always listed them).
func consents(ctx context.Context, r *sql.DB, id int64) ([]Consent, error) {
	var (
		all     = make([]Consent, len(Channels))
		granted = make([]sql.NullBool, len(Channels))
		cols    []string
		dest    []any
	)
	for i, ch := range Channels {
		col, _ := ConsentColumn(ch)
		cols = append(cols, col, col+"_source", col+"_at")
		all[i].Channel = ch
		dest = append(dest, &granted[i], &all[i].Source, &all[i].RecordedAt)
	}
	out := []Consent{}
	err := r.QueryRowContext(ctx, `SELECT `+strings.Join(cols, ", ")+` FROM customers WHERE id = ?`, id).Scan(dest...)
	if errors.Is(err, sql.ErrNoRows) { // erased since the card's first read
		return out, nil
	}
	if err != nil {
		return nil, err
	}
	for i, k := range all {
		if granted[i].Valid {
			k.Granted = granted[i].Bool
			out = append(out, k)
		}
	}
	slices.SortFunc(out, func(a, b Consent) int { return strings.Compare(a.Channel, b.Channel) })
	return out, nil
}

// IDByNumber returns the ID of the customer with the given number, as
// typed: it is normalized as the import does (NormalizeCustomerNo).
func (s *Service) IDByNumber(ctx context.Context, customerNo string) (int64, error) {
	var id int64
	err := s.db.Reader().QueryRowContext(ctx, `SELECT id FROM customers WHERE customer_no = ?`, NormalizeCustomerNo(customerNo)).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, ErrNotFound
	}
	return id, err
}

func each(ctx context.Context, q *sql.DB, query string, args []any, fn func(*sql.Rows) error) error {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

func digitsOnly(s string) string {
	var b strings.Builder
	for _, r := range NormalizeText(s) {
		if r >= '0' && r <= '9' {
			b.WriteByte(byte(r))
		}
	}
	return b.String()
}
