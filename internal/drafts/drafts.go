// Package drafts keeps what a staff member typed and has not yet sent or
// saved (a reply, an unsaved campaign, an editor's form), so that locking
// the screen, signing out or restarting the app loses nothing (issue 19).
//
// Drafts hold customer-related text, so they are stored in the encrypted
// DB (never in the WebView's storage, which is a plain file on disk). Every
// call is scoped to one staff member: nobody reads another's drafts. A
// draft about a conversation or a customer references it, so erasure and
// retention delete it with the conversation or customer (ON DELETE
// CASCADE); deactivating a staff member deletes theirs (a trigger).
//
// Saving is not audited: it happens every few seconds while someone types,
// changes nothing anyone else sees, and the text is audited when it is
// sent or saved for real.
package drafts

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"tsunagu/internal/store"
)

// Kind names the editor a draft belongs to.
type Kind string

// The editors that keep drafts. Reply and note are keyed by conversation
// ID, customer by customer ID, the others by the edited record's ID or
// "new" for one not yet saved.
const (
	KindReply      Kind = "reply"
	KindNote       Kind = "note"
	KindCustomer   Kind = "customer"
	KindCampaign   Kind = "campaign"
	KindAutomation Kind = "automation"
	KindSurvey     Kind = "survey"
	KindSegment    Kind = "segment"
	KindRichMenu   Kind = "richmenu"
	KindCanned     Kind = "canned"
	KindRoute      Kind = "route"   // inflow routes
	KindForm       Kind = "form"    // web forms
	KindBooking    Kind = "booking" // consultation booking settings (types, hours)
)

// ref says which row a kind's key points at.
type ref int

const (
	refNone ref = iota
	refConversation
	refCustomer
)

var kinds = map[Kind]ref{
	KindReply: refConversation, KindNote: refConversation, KindCustomer: refCustomer,
	KindCampaign: refNone, KindAutomation: refNone, KindSurvey: refNone, KindSegment: refNone,
	KindRichMenu: refNone, KindCanned: refNone, KindRoute: refNone, KindForm: refNone, KindBooking: refNone,
}

// Limits: a draft is a form, not a file store.
const (
	// MaxBody is the largest draft body in bytes (a campaign with its
	// messages fits many times over; images are not drafted).
	MaxBody = 256 << 10
	// MaxPerStaff is how many drafts one staff member may keep.
	MaxPerStaff = 500
	maxKey      = 64
)

var (
	// ErrInvalid: an unknown kind, a malformed key or a body that is not JSON.
	ErrInvalid = errors.New("drafts: invalid draft")
	// ErrTooLarge: the body is over MaxBody or the staff member already
	// keeps MaxPerStaff drafts.
	ErrTooLarge = errors.New("drafts: draft too large")
	// ErrNotFound: the conversation or customer the draft is about does not exist.
	ErrNotFound = errors.New("drafts: not found")
)

// Draft is one staff member's unsent work in one editor.
type Draft struct {
	Kind Kind   `json:"kind"`
	Key  string `json:"key"`
	// Body is the editor's state as JSON; "" when there is no draft.
	Body      string `json:"body"`
	UpdatedAt int64  `json:"updatedAt"` // unix ms; 0 when there is no draft
}

// Service stores drafts.
type Service struct {
	db  *store.DB
	now func() time.Time
}

// New returns a Service over db; clock nil means time.Now.
func New(db *store.DB, clock func() time.Time) *Service {
	if clock == nil {
		clock = time.Now
	}
	return &Service{db: db, now: clock}
}

func check(kind Kind, key string) (ref, error) {
	r, ok := kinds[kind]
	if !ok {
		return 0, fmt.Errorf("%w: kind %q", ErrInvalid, kind)
	}
	if key == "" || len(key) > maxKey {
		return 0, fmt.Errorf("%w: key length %d", ErrInvalid, len(key))
	}
	if r != refNone {
		if n, err := strconv.ParseInt(key, 10, 64); err != nil || n <= 0 {
			return 0, fmt.Errorf("%w: %s key must be an ID", ErrInvalid, kind)
		}
	}
	return r, nil
}

// Save stores staffID's draft, replacing the previous one. An empty body
// (or JSON null, "" or {}) deletes it: the editor was emptied.
func (s *Service) Save(ctx context.Context, staffID int64, kind Kind, key, body string) (Draft, error) {
	r, err := check(kind, key)
	if err != nil {
		return Draft{}, err
	}
	if empty(body) {
		return Draft{Kind: kind, Key: key}, s.Delete(ctx, staffID, kind, key)
	}
	if len(body) > MaxBody {
		return Draft{}, fmt.Errorf("%w: %d bytes", ErrTooLarge, len(body))
	}
	if !json.Valid([]byte(body)) {
		return Draft{}, fmt.Errorf("%w: body is not JSON", ErrInvalid)
	}
	d := Draft{Kind: kind, Key: key, Body: body, UpdatedAt: s.now().UnixMilli()}
	var conv, cust sql.NullInt64
	id, _ := strconv.ParseInt(key, 10, 64)
	switch r {
	case refConversation:
		conv = sql.NullInt64{Int64: id, Valid: true}
	case refCustomer:
		cust = sql.NullInt64{Int64: id, Valid: true}
	}
	err = s.db.Write(ctx, func(tx *sql.Tx) error {
		if err := exists(ctx, tx, r, id); err != nil {
			return err
		}
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM drafts WHERE staff_id = ? AND NOT (kind = ? AND key = ?)`,
			staffID, kind, key).Scan(&n); err != nil {
			return err
		}
		if n >= MaxPerStaff {
			return fmt.Errorf("%w: %d drafts kept", ErrTooLarge, n)
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO drafts (staff_id, kind, key, conversation_id, customer_id, body, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (staff_id, kind, key) DO UPDATE SET body = excluded.body, updated_at = excluded.updated_at`,
			staffID, kind, key, conv, cust, body, d.UpdatedAt)
		return err
	})
	if err != nil {
		return Draft{}, fmt.Errorf("save %s draft: %w", kind, err)
	}
	return d, nil
}

// exists refuses a draft about a conversation or customer that is gone
// (erased meanwhile): the foreign key would, but with a less useful error.
func exists(ctx context.Context, tx *sql.Tx, r ref, id int64) error {
	q := ""
	switch r {
	case refConversation:
		q = `SELECT 1 FROM conversations WHERE id = ?`
	case refCustomer:
		q = `SELECT 1 FROM customers WHERE id = ?`
	default:
		return nil
	}
	var one int
	err := tx.QueryRowContext(ctx, q, id).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return ErrNotFound
	}
	return err
}

func empty(body string) bool {
	switch body {
	case "", "null", `""`, "{}":
		return true
	}
	return false
}

// Get returns staffID's draft, or one with an empty Body when there is none.
func (s *Service) Get(ctx context.Context, staffID int64, kind Kind, key string) (Draft, error) {
	if _, err := check(kind, key); err != nil {
		return Draft{}, err
	}
	d := Draft{Kind: kind, Key: key}
	err := s.db.Reader().QueryRowContext(ctx, `SELECT body, updated_at FROM drafts WHERE staff_id = ? AND kind = ? AND key = ?`,
		staffID, kind, key).Scan(&d.Body, &d.UpdatedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return d, nil
	}
	if err != nil {
		return Draft{}, fmt.Errorf("get %s draft: %w", kind, err)
	}
	return d, nil
}

// List returns staffID's drafts of one kind, newest first.
func (s *Service) List(ctx context.Context, staffID int64, kind Kind) ([]Draft, error) {
	if _, ok := kinds[kind]; !ok {
		return nil, fmt.Errorf("%w: kind %q", ErrInvalid, kind)
	}
	rows, err := s.db.Reader().QueryContext(ctx, `SELECT key, body, updated_at FROM drafts WHERE staff_id = ? AND kind = ?
		ORDER BY updated_at DESC, key`, staffID, kind)
	if err != nil {
		return nil, fmt.Errorf("list %s drafts: %w", kind, err)
	}
	defer rows.Close()
	out := []Draft{}
	for rows.Next() {
		d := Draft{Kind: kind}
		if err := rows.Scan(&d.Key, &d.Body, &d.UpdatedAt); err != nil {
			return nil, fmt.Errorf("list %s drafts: %w", kind, err)
		}
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list %s drafts: %w", kind, err)
	}
	return out, nil
}

// Delete removes staffID's draft (the work was sent, saved or discarded);
// deleting a draft that does not exist is not an error.
func (s *Service) Delete(ctx context.Context, staffID int64, kind Kind, key string) error {
	if _, err := check(kind, key); err != nil {
		return err
	}
	err := s.db.Write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM drafts WHERE staff_id = ? AND kind = ? AND key = ?`, staffID, kind, key)
		return err
	})
	if err != nil {
		return fmt.Errorf("delete %s draft: %w", kind, err)
	}
	return nil
}
