package forms

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"tsunagu/internal/audit"
	"tsunagu/internal/line"
	"tsunagu/internal/outbox"
	"tsunagu/internal/relay/wire"
)

// Prefill without exposure (issue 21; the scheme is wire/prefill.go, the
// threat model docs/forms.md). A question may be filled from a customer
// field; a link sent to one customer carries the values, sealed with a
// random key K that travels only in the link's fragment and bound to the
// customer's LINE user, so the relay (which holds the ciphertext until it
// expires) cannot read them, and neither can someone the link is
// forwarded to.

// Customer fields a question may be filled from (Question.Prefill).
const (
	FieldName    = "name"      // 氏名: text
	FieldKana    = "kana"      // フリガナ: text
	FieldBirth   = "birthDate" // 生年月日: birthdate, date
	FieldAddress = "address"   // 郵便番号と住所: postal
	FieldPhone   = "phone"     // 電話番号 (mobile first): phone
	FieldEmail   = "email"     // メールアドレス: email
)

// ActionPrefillSend: a prefilled link sent to one customer (who, which
// customer, which form, which fields; never the values).
const ActionPrefillSend = "form.prefill_send"

// Prefill expiry, days (Draft.PrefillDays; 0 means the default).
const (
	DefaultPrefillDays = 7
	MaxPrefillDays     = 30
)

// Errors of prefilled sends.
var (
	ErrNotPublished = errors.New("forms: the form is not published")
	ErrNoCustomer   = errors.New("forms: this LINE user is not linked to a customer, so there is nothing to fill in")
	ErrNoPrefill    = errors.New("forms: the form has no question filled from customer information")
	ErrBlocked      = errors.New("forms: the customer cannot be reached on LINE (blocked, or not a friend)")
	ErrNoSender     = errors.New("forms: messages cannot be sent (not connected to LINE)")
	ErrRequestKey   = errors.New("forms: a send's request key is malformed or belongs to another send")
	ErrLinkNotSent  = errors.New("forms: the LINE message with the link did not go")
	// ErrRelayDown: the sealed values could not be put on the relay, so
	// nothing was sent; the same send tried again goes on from there.
	ErrRelayDown = errors.New("forms: the relay could not be reached, so the link was not sent")
)

// prefillFits says which question types a customer field may fill.
func prefillFits(field, qtype string) bool {
	switch field {
	case FieldName, FieldKana:
		return qtype == TypeText
	case FieldBirth:
		return qtype == TypeBirth || qtype == TypeDate
	case FieldAddress:
		return qtype == TypePostal
	case FieldPhone:
		return qtype == TypePhone
	case FieldEmail:
		return qtype == TypeEmail
	}
	return false
}

// PrefillValue is one value a prefilled link would carry, as the clerk
// sees it before sending (the facade masks Value for the agency role).
type PrefillValue struct {
	QuestionID string `json:"questionId"`
	Label      string `json:"label"`
	Field      string `json:"field"`
	Value      string `json:"value"` // as shown ("": the customer record has none)
}

// PrefillPreview is what a prefilled send would do.
type PrefillPreview struct {
	Form     string         `json:"form"`     // its title
	Customer string         `json:"customer"` // the linked customer's name
	Values   []PrefillValue `json:"values"`   // every prefillable question, in order
	Days     int            `json:"days"`     // how long the link's values last
}

// Mask hides the identifying values (the agency role), as answers are.
func (p *PrefillPreview) Mask() {
	p.Customer = maskNonEmpty(p.Customer)
	for i := range p.Values {
		p.Values[i].Value = maskNonEmpty(p.Values[i].Value)
	}
}

// customerRecord is what a prefill reads of a customer (phone and e-mail
// as the customer screen picks them: imported columns first, then the
// contact points added by hand).
type customerRecord struct {
	id                           int64
	name, kana, birth, zip, addr string
	phone, email                 string
}

func (s *Service) customerOf(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}, lineUserID string) (customerRecord, error) {
	var c customerRecord
	err := q.QueryRowContext(ctx, `SELECT c.id, c.name, c.name_kana, c.birth_date, c.postal_code, c.address,
		coalesce(nullif(c.mobile, ''), nullif(c.phone, ''), (SELECT value FROM contact_points p WHERE p.customer_id = c.id AND p.kind IN ('mobile', 'phone') ORDER BY p.kind = 'phone', p.id LIMIT 1), ''),
		coalesce(nullif(c.email, ''), (SELECT value FROM contact_points p WHERE p.customer_id = c.id AND p.kind = 'email' ORDER BY p.id LIMIT 1), '')
		FROM customer_line_links l JOIN customers c ON c.id = l.customer_id WHERE l.line_user_id = ?`, lineUserID).
		Scan(&c.id, &c.name, &c.kana, &c.birth, &c.zip, &c.addr, &c.phone, &c.email)
	if errors.Is(err, sql.ErrNoRows) {
		return c, ErrNoCustomer
	}
	return c, err
}

// value is a customer field as the page's question takes it ("" or nil:
// none) and as the clerk sees it.
func (c customerRecord) value(field string) (any, string) {
	switch field {
	case FieldName:
		return c.name, c.name
	case FieldKana:
		return c.kana, c.kana
	case FieldBirth:
		return c.birth, c.birth
	case FieldPhone:
		return c.phone, c.phone
	case FieldEmail:
		return c.email, c.email
	case FieldAddress:
		if c.zip == "" && c.addr == "" {
			return nil, ""
		}
		a := splitAddress(c.zip, c.addr)
		return a, postalText(a)
	}
	return nil, ""
}

var cityRe = regexp.MustCompile(`^(.+?郡.+?[町村]|.+?市.+?区|.+?[市区町村])`)

// splitAddress makes the postal question's parts from the customer
// record's one-line address: the prefecture it starts with, a city up to
// its 市/区/町/村, the rest as the town. A rough split: the customer sees
// it filled in and corrects it.
func splitAddress(zip, addr string) map[string]string {
	out := map[string]string{PostalCode: strings.ReplaceAll(zip, "-", "")}
	rest := strings.TrimSpace(addr)
	for _, p := range Prefectures {
		if strings.HasPrefix(rest, p) {
			out[PostalPref], rest = p, strings.TrimSpace(strings.TrimPrefix(rest, p))
			break
		}
	}
	if m := cityRe.FindString(rest); m != "" && m != rest {
		out[PostalCity], rest = m, strings.TrimSpace(strings.TrimPrefix(rest, m))
	}
	town, building, _ := strings.Cut(rest, " ")
	if t, b, ok := strings.Cut(rest, "　"); ok && len(t) < len(town) {
		town, building = t, b
	}
	out[PostalTown], out[PostalBuilding] = town, strings.TrimSpace(building)
	return out
}

// prefillable is the form's questions filled from customer fields.
func prefillable(f Form) []Question {
	var out []Question
	for _, q := range f.Questions {
		if q.Prefill != "" && prefillFits(q.Prefill, q.Type) {
			out = append(out, q)
		}
	}
	return out
}

// PrefillPreview shows which values a prefilled link to lineUserID would
// carry (nothing is sent or stored).
func (s *Service) PrefillPreview(ctx context.Context, formID int64, lineUserID string) (PrefillPreview, error) {
	f, err := s.Get(ctx, formID)
	if err != nil {
		return PrefillPreview{}, err
	}
	qs := prefillable(f)
	if len(qs) == 0 {
		return PrefillPreview{}, fmt.Errorf("forms: prefill %d: %w", formID, ErrNoPrefill)
	}
	c, err := s.customerOf(ctx, s.db.Reader(), lineUserID)
	if err != nil {
		return PrefillPreview{}, fmt.Errorf("forms: prefill %d: %w", formID, err)
	}
	p := PrefillPreview{Form: f.Title, Customer: c.name, Days: f.PrefillDays}
	for _, q := range qs {
		_, shown := c.value(q.Prefill)
		p.Values = append(p.Values, PrefillValue{QuestionID: q.ID, Label: q.Label, Field: q.Prefill, Value: shown})
	}
	return p, nil
}

// PrefillPublisher also puts prefill blobs on the relay
// (relayclient.Client).
type PrefillPublisher interface {
	PublishPrefill(ctx context.Context, p wire.FormPrefill) error
}

// PrefillSent is a prefilled send's outcome.
type PrefillSent struct {
	Fields  []string `json:"fields"`  // the customer fields filled
	Expires int64    `json:"expires"` // unix ms
}

var requestKeyRe = regexp.MustCompile(`^[A-Za-z0-9_-]{16,64}$`)

// SendPrefilled sends the form's link to one LINE user (a linked
// customer), carrying the customer record's values for the prefillable
// questions sealed for that user. requestKey is the clerk's send (the
// screen makes one per confirmation): a retry with it reuses the stored
// blob and key, so the relay gets the same blob and LINE one message. The
// blob is stored first; then published to the relay (signed); then, in one
// transaction, the message is enqueued (its retry key stored) with the
// audit entry (form.prefill_send: customer, form, fields; no values) and
// the key cleared from the row; then sent. The relay unreachable: ErrRelayDown,
// nothing sent, and the next try with the same requestKey goes on.
func (s *Service) SendPrefilled(ctx context.Context, actor string, formID int64, lineUserID, requestKey string) (PrefillSent, error) {
	fail := func(err error) (PrefillSent, error) {
		return PrefillSent{}, fmt.Errorf("forms: prefilled send of form %d: %w", formID, err)
	}
	if !requestKeyRe.MatchString(requestKey) {
		return fail(ErrRequestKey)
	}
	if s.thanks == nil {
		return fail(ErrNoSender)
	}
	f, token, err := s.get(ctx, formID)
	if err != nil {
		return fail(err)
	}
	if f.Status != StatusPublished || !f.Published {
		return fail(ErrNotPublished)
	}
	pub, ok := s.publisher(ctx)
	if !ok {
		return fail(ErrNoRelay)
	}
	pp, ok := pub.(PrefillPublisher)
	if !ok {
		return fail(ErrNoRelay)
	}
	qs := prefillable(f)
	if len(qs) == 0 {
		return fail(ErrNoPrefill)
	}

	// The stored row: this send's blob and key (a retry finds them).
	var (
		rowID, expires int64
		blobID         string
		blob, key      []byte
		fieldsJSON     string
		sendID         sql.NullInt64
	)
	err = s.db.Write(ctx, func(tx *sql.Tx) error {
		var rowForm int64
		var rowUser string
		err := tx.QueryRowContext(ctx, `SELECT id, form_id, line_user_id, blob_id, blob, link_key, fields, expires_at, send_id FROM form_prefills WHERE request_key = ?`, requestKey).
			Scan(&rowID, &rowForm, &rowUser, &blobID, &blob, &key, &fieldsJSON, &expires, &sendID)
		if err == nil {
			if rowForm != formID || rowUser != lineUserID {
				return ErrRequestKey
			}
			return nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		var follow string
		err = tx.QueryRowContext(ctx, `SELECT follow_state FROM line_users WHERE user_id = ?`, lineUserID).Scan(&follow)
		if errors.Is(err, sql.ErrNoRows) || follow == "unfollowed" {
			return ErrBlocked
		}
		if err != nil {
			return err
		}
		c, err := s.customerOf(ctx, tx, lineUserID)
		if err != nil {
			return err
		}
		values := map[string]any{}
		var fields []string
		for _, q := range qs {
			v, shown := c.value(q.Prefill)
			if shown == "" {
				continue
			}
			values[q.ID] = v
			fields = append(fields, q.Prefill)
		}
		key = make([]byte, wire.PrefillKeySize)
		if _, err := rand.Read(key); err != nil {
			return fmt.Errorf("prefill key: %w", err)
		}
		if blob, err = wire.SealPrefill(key, lineUserID, token, values); err != nil {
			return err
		}
		if blobID, err = newToken(); err != nil {
			return err
		}
		now := s.now()
		expires = now.Add(time.Duration(f.PrefillDays) * 24 * time.Hour).UnixMilli()
		fj, _ := json.Marshal(fields)
		fieldsJSON = string(fj)
		var cid any
		if c.id != 0 {
			cid = c.id
		}
		return tx.QueryRowContext(ctx, `INSERT INTO form_prefills (request_key, form_id, line_user_id, customer_id, blob_id, blob, link_key, fields, expires_at, created_by, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, requestKey, formID, lineUserID, cid, blobID, blob, key, fieldsJSON, expires, actor, now.UnixMilli()).Scan(&rowID)
	})
	if err != nil {
		return fail(err)
	}
	var fields []string
	_ = json.Unmarshal([]byte(fieldsJSON), &fields)
	out := PrefillSent{Fields: fields, Expires: expires}
	if sendID.Valid {
		// Enqueued by an earlier try: only make sure it goes.
		return s.sendPrefill(ctx, formID, sendID.Int64, out)
	}
	if s.now().UnixMilli() >= expires {
		return fail(fmt.Errorf("%w: the link expired before it could be sent", ErrRelayDown))
	}
	if err := pp.PublishPrefill(ctx, wire.FormPrefill{Form: token, ID: blobID, Blob: blob, Expires: expires}); err != nil {
		return fail(fmt.Errorf("%w: %w", ErrRelayDown, err))
	}
	link := pub.FormURL(token) + "?p=" + blobID + "#" + wire.PrefillFragment(key)
	clear(key)
	msg, err := line.Text(prefillMessage(f.Title, link, time.UnixMilli(expires)))
	if err != nil {
		return fail(err)
	}
	err = s.db.Write(ctx, func(tx *sql.Tx) error {
		var done sql.NullInt64
		if err := tx.QueryRowContext(ctx, `SELECT send_id FROM form_prefills WHERE id = ?`, rowID).Scan(&done); err != nil {
			return err
		}
		if done.Valid { // a concurrent try got here first
			sendID = done
			return nil
		}
		id, err := s.thanks.EnqueueTx(ctx, tx, outbox.Request{Source: target(formID), To: []string{lineUserID}, Messages: []line.Message{msg}})
		if err != nil {
			return fmt.Errorf("prefilled link message: %w", err)
		}
		sendID = sql.NullInt64{Int64: id, Valid: true}
		// The key now lives only in the queued message.
		if _, err := tx.ExecContext(ctx, `UPDATE form_prefills SET send_id = ?, link_key = NULL WHERE id = ?`, id, rowID); err != nil {
			return err
		}
		detail := map[string]string{"title": f.Title, "fields": strings.Join(fields, ","), "send": strconv.FormatInt(id, 10),
			"expires": strconv.FormatInt(expires, 10)}
		var cid int64
		if tx.QueryRowContext(ctx, `SELECT customer_id FROM form_prefills WHERE id = ? AND customer_id IS NOT NULL`, rowID).Scan(&cid) == nil {
			detail["customer"] = strconv.FormatInt(cid, 10)
		}
		_, err = audit.Record(ctx, tx, audit.Entry{At: s.now().UnixMilli(), Actor: actor, Action: ActionPrefillSend, Target: target(formID), Detail: detail})
		return err
	})
	if err != nil {
		return fail(err)
	}
	return s.sendPrefill(ctx, formID, sendID.Int64, out)
}

func (s *Service) sendPrefill(ctx context.Context, formID, sendID int64, out PrefillSent) (PrefillSent, error) {
	res, err := s.thanks.Send(ctx, sendID)
	if err != nil {
		return out, fmt.Errorf("forms: prefilled send of form %d: %w", formID, err)
	}
	if res.Failed > 0 {
		return out, fmt.Errorf("forms: prefilled send of form %d: %w", formID, ErrLinkNotSent)
	}
	return out, nil
}

// prefillMessage is the LINE message carrying a prefilled link.
func prefillMessage(title, link string, expires time.Time) string {
	jst := time.FixedZone("JST", 9*3600)
	return fmt.Sprintf("「%s」のご記入をお願いいたします。\nご登録の情報を入れてあります（%sまで）。\n%s", title, expires.In(jst).Format("1月2日"), link)
}
