package forms

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"tsunagu/internal/audit"
	"tsunagu/internal/customer"
	"tsunagu/internal/line"
	"tsunagu/internal/outbox"
	"tsunagu/internal/relay/wire"
)

// IDTokenVerifier learns whose an ID token is from its signature by LINE
// Login's keys, judging its expiry at receivedAt (line.IDTokenVerifier).
// A refusal wraps line.ErrIDTokenRejected (and line.ErrIDTokenExpired if
// it had expired); any other error is transient.
type IDTokenVerifier interface {
	VerifyIDToken(ctx context.Context, token string, receivedAt time.Time) (line.IDTokenInfo, error)
}

// ThanksSender sends the thank-you message: enqueued in the answer's
// transaction (its retry key stored before anything is sent), sent after
// the commit (*outbox.Outbox).
type ThanksSender interface {
	EnqueueTx(ctx context.Context, tx *sql.Tx, req outbox.Request) (int64, error)
	Send(ctx context.Context, sendID int64) (outbox.Result, error)
}

// ErrNoLogin: the LINE Login channel is not set up, so an answer cannot be
// attributed; it waits at the relay.
var ErrNoLogin = errors.New("forms: LINE Login is not set up, so answers cannot be attributed yet")

// Reject reasons (form_rejects.reason).
const (
	RejectForged      = "forged"       // LINE refused the ID token (bad signature, other channel, malformed)
	RejectExpired     = "expired"      // the ID token had expired when the relay received the answer
	RejectReplayed    = "replayed"     // the ID token was already used for another submission
	RejectUnknownForm = "unknown_form" // no such form here
	RejectMalformed   = "malformed"    // answers that the page could not have sent
)

// Submission is one opened form submission from the relay's queue.
type Submission struct {
	Form *wire.FormSubmission
	// ReceivedAt is when the relay received it (unix ms), stamped by the
	// relay outside the sealed box: the ID token's expiry is judged at
	// this time, never at a time the phone wrote (FormSubmission.SentAt).
	ReceivedAt int64
}

// Outcome of one submission.
const (
	Stored    = "stored"
	Duplicate = "duplicate" // the same submission again (double submit, redelivery): stored once
	Rejected  = "rejected"
)

// Intake stores one submission. It returns the outcome, or an error when
// the submission could not be handled yet (LINE unreachable, the DB): the
// caller leaves it unacked and it comes again. A refused submission is not
// an error: it is recorded in form_rejects (never as answers) and acked.
func (s *Service) Intake(ctx context.Context, sub Submission) (string, error) {
	f := sub.Form
	if f == nil {
		return "", errors.New("forms: intake: no submission")
	}
	form, formErr := s.byToken(ctx, f.FormID)
	if errors.Is(formErr, ErrNotFound) {
		return Rejected, s.reject(ctx, 0, sub, RejectUnknownForm)
	}
	if formErr != nil {
		return "", formErr
	}
	var dup bool
	if err := s.db.Reader().QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM form_answers WHERE submit_id = ?)`, f.SubmitID).Scan(&dup); err != nil {
		return "", fmt.Errorf("forms: intake: %w", err)
	}
	if dup {
		return Duplicate, nil
	}
	answers, ok := checkAnswers(form.Questions, f.Answers, time.UnixMilli(sub.ReceivedAt))
	if !ok || sub.ReceivedAt <= 0 { // the relay always stamps its receipt time
		return Rejected, s.reject(ctx, form.ID, sub, RejectMalformed)
	}
	info, reason, err := s.CheckIDToken(ctx, f.IDToken, sub.ReceivedAt)
	if err != nil {
		// Kept queued at the relay (not acked) rather than refused: the
		// answers are the customer's, and IT may finish the set-up later
		// (ErrNoLogin) or LINE's keys come back.
		return "", fmt.Errorf("forms: intake: %w", err)
	}
	if reason != "" {
		return Rejected, s.reject(ctx, form.ID, sub, reason)
	}
	body, _ := json.Marshal(answers)
	hash := tokenHash(f.IDToken)
	var (
		sendID  int64
		outcome = Stored
	)
	err = s.db.Write(ctx, func(tx *sql.Tx) error {
		sendID, outcome = 0, Stored
		var prior string
		err := tx.QueryRowContext(ctx, `SELECT submit_id FROM form_id_tokens WHERE token_hash = ?`, hash).Scan(&prior)
		switch {
		case err == nil && prior != f.SubmitID:
			outcome = Rejected
			return s.rejectTx(ctx, tx, form.ID, sub, RejectReplayed)
		case err == nil:
			// This very submission was taken before; its answers may have
			// been erased or retired since, and must not come back.
			outcome = Duplicate
			return nil
		case !errors.Is(err, sql.ErrNoRows):
			return err
		}
		now := s.now().UnixMilli()
		res, err := tx.ExecContext(ctx, `INSERT INTO form_answers (submit_id, form_id, line_user_id, answers, received_at, stored_at)
			VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (submit_id) DO NOTHING`, f.SubmitID, form.ID, info.UserID, string(body), sub.ReceivedAt, now)
		if err != nil {
			return fmt.Errorf("store answers: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			outcome = Duplicate
			return nil
		}
		// Kept a day past the token's expiry: after it LINE refuses the
		// token anyway.
		if _, err := tx.ExecContext(ctx, `INSERT INTO form_id_tokens (token_hash, submit_id, expires_at) VALUES (?, ?, ?)
			ON CONFLICT (token_hash) DO NOTHING`, hash, f.SubmitID, info.Expires.Add(24*time.Hour).UnixMilli()); err != nil {
			return fmt.Errorf("store token hash: %w", err)
		}
		if err := s.mapAttributes(ctx, tx, form, info.UserID, answers, now); err != nil {
			return err
		}
		if form.Thanks != "" && s.thanks != nil {
			msg, err := line.Text(form.Thanks)
			if err != nil {
				return fmt.Errorf("thank-you message: %w", err)
			}
			if sendID, err = s.thanks.EnqueueTx(ctx, tx, outbox.Request{Source: target(form.ID), To: []string{info.UserID}, Messages: []line.Message{msg}}); err != nil {
				return fmt.Errorf("thank-you message: %w", err)
			}
			if _, err := tx.ExecContext(ctx, `UPDATE form_answers SET thanks_send = ? WHERE submit_id = ?`, sendID, f.SubmitID); err != nil {
				return err
			}
		}
		_, err = audit.Record(ctx, tx, audit.Entry{At: now, Actor: Actor, Action: ActionAnswer, Target: target(form.ID),
			Detail: map[string]string{"title": form.Title, "questions": strconv.Itoa(len(answers))}})
		return err
	})
	if err != nil {
		return "", fmt.Errorf("forms: intake: %w", err)
	}
	if sendID != 0 {
		// Best effort now; a send LINE did not take stays pending in the
		// outbox with its retry key and is resumed by the schedule.
		_, _ = s.thanks.Send(ctx, sendID)
	}
	return outcome, nil
}

func tokenHash(tok string) string {
	sum := sha256.Sum256([]byte("tsunagu-form-idtoken-v1\x00" + tok))
	return hex.EncodeToString(sum[:])
}

func (s *Service) byToken(ctx context.Context, token string) (Form, error) {
	f, _, err := scanForm(s.db.Reader().QueryRowContext(ctx, selectForm+` WHERE f.token = ?`, token))
	if errors.Is(err, sql.ErrNoRows) {
		return Form{}, ErrNotFound
	}
	if err != nil {
		return Form{}, fmt.Errorf("forms: find form: %w", err)
	}
	return f, nil
}

func (s *Service) reject(ctx context.Context, formID int64, sub Submission, reason string) error {
	return s.db.Write(ctx, func(tx *sql.Tx) error { return s.rejectTx(ctx, tx, formID, sub, reason) })
}

// rejectTx keeps a refused submission (without its ID token) once per
// submission and reason, audited.
func (s *Service) rejectTx(ctx context.Context, tx *sql.Tx, formID int64, sub Submission, reason string) error {
	kept := *sub.Form
	kept.IDToken = ""
	body, _ := json.Marshal(kept)
	var form any
	if formID != 0 {
		form = formID
	}
	res, err := tx.ExecContext(ctx, `INSERT INTO form_rejects (form_id, submit_id, reason, body, received_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (submit_id, reason) DO NOTHING`, form, sub.Form.SubmitID, reason, body, sub.ReceivedAt)
	if err != nil {
		return fmt.Errorf("forms: record refused submission: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return nil
	}
	t := "form:unknown"
	if formID != 0 {
		t = target(formID)
	}
	_, err = audit.Record(ctx, tx, audit.Entry{At: s.now().UnixMilli(), Actor: Actor, Action: ActionReject, Target: t,
		Detail: map[string]string{"reason": reason}})
	return err
}

var (
	emailRe  = regexp.MustCompile(`^[^\s@]+@[^\s@]+\.[^\s@]+$`)
	phoneRe  = regexp.MustCompile(`^0\d{9,10}$`)
	dateRe   = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`)
	phoneSep = strings.NewReplacer("-", "", "‐", "", "ー", "", "－", "", " ", "", "(", "", ")", "", "（", "", "）", "")
)

// checkAnswers keeps the answers to the form's questions (others are
// dropped) and reports whether they are what the page would send: the
// page checks the same rules, so a failure means it was bypassed.
//
// A question the page hid (rules.go) must come without an answer, and is
// not required.
func checkAnswers(qs []Question, in map[string]any, at time.Time) (map[string]any, bool) {
	out := map[string]any{}
	vis := visibility(qs, in)
	for i, q := range qs {
		raw, present := in[q.ID]
		if !vis[i] || q.Type == TypeSection {
			if present && given(raw) {
				return nil, false
			}
			continue
		}
		if q.Type == TypePostal {
			a, ok := checkPostal(raw)
			if !ok || (len(a) == 0 && q.Required) {
				return nil, false
			}
			if len(a) > 0 {
				out[q.ID] = a
			}
			continue
		}
		if q.Type == TypeMulti {
			var vals []string
			if present && raw != nil {
				list, ok := raw.([]any)
				if !ok {
					return nil, false
				}
				for _, v := range list {
					s, ok := v.(string)
					if !ok || !contains(q.Choices, s) {
						return nil, false
					}
					vals = append(vals, s)
				}
			}
			if len(vals) == 0 && q.Required {
				return nil, false
			}
			if len(vals) > 0 {
				out[q.ID] = vals
			}
			continue
		}
		s := ""
		if present && raw != nil {
			v, ok := raw.(string)
			if !ok {
				return nil, false
			}
			s = strings.TrimSpace(v)
		}
		if s == "" {
			if q.Required {
				return nil, false
			}
			continue
		}
		if !utf8.ValidString(s) || utf8.RuneCountInString(s) > wire.MaxFormText {
			return nil, false
		}
		ok := true
		switch q.Type {
		case TypeText, TypeLongText:
			ok = q.MaxLen == 0 || utf8.RuneCountInString(s) <= q.MaxLen
		case TypeNumber:
			n, err := strconv.ParseFloat(s, 64)
			ok = err == nil && !math.IsInf(n, 0) && !math.IsNaN(n) && (q.Min == nil || n >= *q.Min) && (q.Max == nil || n <= *q.Max)
		case TypeDate:
			_, err := time.Parse("2006-01-02", s)
			ok = dateRe.MatchString(s) && err == nil
		case TypeBirth:
			ok = checkBirth(s, at)
		case TypeChoice:
			ok = contains(q.Choices, s)
		case TypeEmail:
			ok = emailRe.MatchString(s)
		case TypePhone:
			ok = phoneRe.MatchString(phoneSep.Replace(s))
		case TypeConsent:
			ok = s == "agreed"
		}
		if !ok {
			return nil, false
		}
		out[q.ID] = s
	}
	return out, true
}

func trimmed(s string) string { return strings.TrimSpace(s) }

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// mapAttributes writes the mapped customer attributes of a linked LINE
// user's answers, as survey answers do (an unlinked user's are not
// written: this slice has no link-time trigger for forms yet).
func (s *Service) mapAttributes(ctx context.Context, tx *sql.Tx, form Form, userID string, answers map[string]any, now int64) error {
	var customerID int64
	err := tx.QueryRowContext(ctx, `SELECT customer_id FROM customer_line_links WHERE line_user_id = ?`, userID).Scan(&customerID)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("find customer: %w", err)
	}
	for _, q := range form.Questions {
		v, ok := answers[q.ID]
		if q.Attribute == "" || !ok {
			continue
		}
		raw, _ := v.(string)
		if list, ok := v.([]string); ok {
			raw = strings.Join(list, "、")
		}
		if a, ok := v.(map[string]string); ok {
			raw = postalText(a)
		}
		var (
			id      int64
			def     customer.AttributeDef
			choices string
		)
		err := tx.QueryRowContext(ctx, `SELECT id, key, label, type, choices FROM attribute_defs WHERE key = ?`, q.Attribute).
			Scan(&id, &def.Key, &def.Label, &def.Type, &choices)
		if errors.Is(err, sql.ErrNoRows) {
			continue // the attribute was removed since: the answer is kept
		}
		if err != nil {
			return fmt.Errorf("attribute %s: %w", q.Attribute, err)
		}
		if err := json.Unmarshal([]byte(choices), &def.Choices); err != nil {
			return fmt.Errorf("attribute %s: %w", q.Attribute, err)
		}
		val, err := def.CheckAttribute(raw)
		if err != nil {
			continue // the answer does not fit the attribute's type: kept, not mapped
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO customer_attributes (customer_id, attr_id, value) VALUES (?, ?, ?)
			ON CONFLICT (customer_id, attr_id) DO UPDATE SET value = excluded.value`, customerID, id, val); err != nil {
			return fmt.Errorf("set attribute: %w", err)
		}
		if _, err := audit.Record(ctx, tx, audit.Entry{At: now, Actor: Actor, Action: customer.ActionAttributeSet, Target: customer.Target(customerID),
			Detail: map[string]string{"attribute": q.Attribute, "form": strconv.FormatInt(form.ID, 10), "question": q.ID}}); err != nil {
			return err
		}
	}
	return nil
}

// Answer is one stored submission as the results show it.
type Answer struct {
	SubmitID    string         `json:"submitId"`
	DisplayName string         `json:"displayName"` // the LINE profile name ("" unknown)
	Customer    string         `json:"customer"`    // the linked customer's name ("" not linked)
	CustomerID  int64          `json:"customerId"`  // for opening the customer; 0 not linked
	Values      map[string]any `json:"values"`
	ReceivedAt  int64          `json:"receivedAt"`
}

// Answers returns a form's answers, newest first; viewing is audited.
func (s *Service) Answers(ctx context.Context, actor string, formID int64) ([]Answer, error) {
	if _, err := s.Get(ctx, formID); err != nil {
		return nil, err
	}
	rows, err := s.db.Reader().QueryContext(ctx, `SELECT a.submit_id, coalesce(u.display_name, ''), coalesce(c.name, ''), coalesce(c.id, 0), a.answers, a.received_at
		FROM form_answers a LEFT JOIN line_users u ON u.user_id = a.line_user_id
		LEFT JOIN customer_line_links l ON l.line_user_id = a.line_user_id LEFT JOIN customers c ON c.id = l.customer_id
		WHERE a.form_id = ? ORDER BY a.stored_at DESC`, formID)
	if err != nil {
		return nil, fmt.Errorf("forms: answers: %w", err)
	}
	defer rows.Close()
	out := []Answer{}
	for rows.Next() {
		var (
			a    Answer
			vals string
		)
		if err := rows.Scan(&a.SubmitID, &a.DisplayName, &a.Customer, &a.CustomerID, &vals, &a.ReceivedAt); err != nil {
			return nil, fmt.Errorf("forms: answers: %w", err)
		}
		if err := json.Unmarshal([]byte(vals), &a.Values); err != nil {
			return nil, fmt.Errorf("forms: answers: %w", err)
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	err = s.db.Write(ctx, func(tx *sql.Tx) error {
		_, err := audit.Record(ctx, tx, audit.Entry{At: s.now().UnixMilli(), Actor: actor, Action: ActionResults, Target: target(formID),
			Detail: map[string]string{"answers": strconv.Itoa(len(out))}})
		return err
	})
	return out, err
}

// Rejects counts a form's refused submissions by reason.
func (s *Service) Rejects(ctx context.Context, formID int64) (map[string]int, error) {
	rows, err := s.db.Reader().QueryContext(ctx, `SELECT reason, count(*) FROM form_rejects WHERE form_id = ? GROUP BY reason`, formID)
	if err != nil {
		return nil, fmt.Errorf("forms: rejects: %w", err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var (
			r string
			n int
		)
		if err := rows.Scan(&r, &n); err != nil {
			return nil, err
		}
		out[r] = n
	}
	return out, rows.Err()
}
