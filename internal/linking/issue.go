package linking

import (
	"context"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	qrcode "github.com/skip2/go-qrcode"

	"tsunagu/internal/customer"
)

// Deliveries of a code.
const (
	DeliveryLetter = "letter"
	DeliveryEmail  = "email"
	DeliverySMS    = "sms"
)

// IssueRequest is what staff ask for: a code for a customer, delivered on a
// printed letter or sent to one of the customer's contact points.
type IssueRequest struct {
	CustomerID  int64  `json:"customerId"`
	Delivery    string `json:"delivery"`    // letter, email, sms
	Destination string `json:"destination"` // email or sms: one of the customer's contact points
}

// Issued is the outcome of an issue.
type Issued struct {
	CodeID    int64  `json:"codeId"`
	ExpiresAt int64  `json:"expiresAt"`
	Delivery  string `json:"delivery"`
	// SendStatus is "sent" or "failed" for email and SMS, "" for letters.
	SendStatus string  `json:"sendStatus"`
	Letter     *Letter `json:"letter"` // letters only
}

// Letter is what the printable letter shows. It is the only place the
// code's plain text ever leaves the app.
type Letter struct {
	CustomerNo string `json:"customerNo"`
	Name       string `json:"name"`
	Branch     string `json:"branch"`
	Code       string `json:"code"` // XXXX-XXXX
	IssuedAt   int64  `json:"issuedAt"`
	ExpiresAt  int64  `json:"expiresAt"`
	BasicID    string `json:"basicId"`   // "" if LINE could not be asked
	ChatURL    string `json:"chatUrl"`   // opens the chat with the code prefilled
	QRDataURL  string `json:"qrDataUrl"` // PNG of ChatURL as a data: URL
	Prefill    string `json:"prefill"`
}

// CodeInfo describes a customer's open code (never the code itself).
type CodeInfo struct {
	ID        int64  `json:"id"`
	Delivery  string `json:"delivery"`
	State     string `json:"state"`
	IssuedBy  string `json:"issuedBy"`
	CreatedAt int64  `json:"createdAt"`
	ExpiresAt int64  `json:"expiresAt"`
}

// Issue makes a new code for a customer, revoking any open one, and delivers
// it: a letter comes back to print; an email or SMS is sent to the
// destination, which must be one of the customer's contact points. The
// issue (who, for whom, how) and any revocation are audited in the
// transaction that stores the code; an email or SMS delivery row with its
// idempotency key is stored there too, before the send.
func (s *Service) Issue(ctx context.Context, actor string, req IssueRequest) (Issued, error) {
	card, err := s.customers.Card(ctx, req.CustomerID)
	if errors.Is(err, customer.ErrNotFound) {
		return Issued{}, fmt.Errorf("customer %d: %w", req.CustomerID, ErrNotFound)
	}
	if err != nil {
		return Issued{}, err
	}
	if card.Line != nil {
		return Issued{}, fmt.Errorf("customer %d: %w", req.CustomerID, ErrCustomerLinked)
	}
	dest, err := s.checkDelivery(ctx, card, req)
	if err != nil {
		return Issued{}, err
	}
	set, err := s.Settings(ctx)
	if err != nil {
		return Issued{}, err
	}
	if set.IdentityCheck == IdentityBirthDate && card.BirthDate == "" {
		return Issued{}, fmt.Errorf("customer %d: %w", req.CustomerID, ErrNoBirthDate)
	}

	now := s.now()
	expires := now.Add(time.Duration(set.CodeValidityDays) * 24 * time.Hour)
	code := s.newCode()
	var (
		out Issued
		key string
	)
	out.Delivery, out.ExpiresAt = req.Delivery, expires.UnixMilli()
	err = s.db.Write(ctx, func(tx *sql.Tx) error {
		if err := s.revokeOpen(ctx, tx, actor, req.CustomerID, "reissued"); err != nil {
			return err
		}
		hash, err := hashCode(ctx, tx, code)
		if err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO link_codes (customer_id, code_hash, issued_by, delivery, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)`,
			req.CustomerID, hash, actor, req.Delivery, now.UnixMilli(), expires.UnixMilli())
		if err != nil {
			return fmt.Errorf("store link code: %w", err)
		}
		if out.CodeID, err = res.LastInsertId(); err != nil {
			return err
		}
		if req.Delivery != DeliveryLetter {
			key = s.newKey()
			if _, err := tx.ExecContext(ctx, `INSERT INTO link_code_deliveries (code_id, channel, destination, idempotency_key, created_at) VALUES (?, ?, ?, ?, ?)`,
				out.CodeID, req.Delivery, dest, key, now.UnixMilli()); err != nil {
				return fmt.Errorf("store link code delivery: %w", err)
			}
		}
		return s.record(ctx, tx, actor, ActionCodeIssue, req.CustomerID, map[string]string{
			"code": itoa(out.CodeID), "delivery": req.Delivery, "expiresAt": expires.UTC().Format(time.RFC3339)})
	})
	if err != nil {
		return Issued{}, fmt.Errorf("issue link code for customer %d: %w", req.CustomerID, err)
	}

	if req.Delivery == DeliveryLetter {
		l := s.letter(ctx, card, code, now, expires)
		out.Letter = &l
		return out, nil
	}
	out.SendStatus = s.send(ctx, out.CodeID, req.Delivery, dest, key, card, code, expires)
	return out, nil
}

// checkDelivery returns the normalised destination of an email or SMS, which
// must be one of the customer's contact points.
func (s *Service) checkDelivery(ctx context.Context, card customer.Card, req IssueRequest) (string, error) {
	email, sms := s.Channels(ctx)
	switch req.Delivery {
	case DeliveryLetter:
		return "", nil
	case DeliveryEmail, DeliverySMS:
		if req.Delivery == DeliveryEmail && !email || req.Delivery == DeliverySMS && !sms {
			return "", ErrNoNotifier
		}
	default:
		return "", fmt.Errorf("%w: %q", ErrInvalidDelivery, req.Delivery)
	}
	for _, d := range Destinations(card)[req.Delivery] {
		if d == req.Destination {
			return d, nil
		}
	}
	return "", ErrDestination
}

// Destinations lists where a code can be sent for a customer: emails, and
// mobile numbers for SMS.
func Destinations(card customer.Card) map[string][]string {
	out := map[string][]string{DeliveryEmail: {}, DeliverySMS: {}}
	for _, p := range card.ContactPoints {
		switch {
		case p.Kind == "email":
			out[DeliveryEmail] = append(out[DeliveryEmail], p.Value)
		case p.Kind == "mobile" || (p.Kind == "phone" && isMobile(p.Value)):
			out[DeliverySMS] = append(out[DeliverySMS], p.Value)
		}
	}
	return out
}

// isMobile: Japanese mobile numbers start 070, 080 or 090.
func isMobile(digits string) bool {
	return len(digits) == 11 && (strings.HasPrefix(digits, "070") || strings.HasPrefix(digits, "080") || strings.HasPrefix(digits, "090"))
}

// revokeOpen closes a customer's open codes, audited one by one.
func (s *Service) revokeOpen(ctx context.Context, tx *sql.Tx, actor string, customerID int64, why string) error {
	ids, err := int64s(ctx, tx, `SELECT id FROM link_codes WHERE customer_id = ? AND state IN ('pending','verifying')`, customerID)
	if err != nil {
		return fmt.Errorf("open link codes: %w", err)
	}
	for _, id := range ids {
		if _, err := tx.ExecContext(ctx, `UPDATE link_codes SET state = 'revoked', closed_at = ? WHERE id = ?`, s.now().UnixMilli(), id); err != nil {
			return fmt.Errorf("revoke link code: %w", err)
		}
		if err := s.record(ctx, tx, actor, ActionCodeRevoke, customerID, map[string]string{"code": itoa(id), "why": why}); err != nil {
			return err
		}
	}
	return nil
}

// OpenCode returns the customer's open code, if any.
func (s *Service) OpenCode(ctx context.Context, customerID int64) (*CodeInfo, error) {
	var c CodeInfo
	err := s.db.Reader().QueryRowContext(ctx, `SELECT id, delivery, state, issued_by, created_at, expires_at FROM link_codes
		WHERE customer_id = ? AND state IN ('pending','verifying')`, customerID).
		Scan(&c.ID, &c.Delivery, &c.State, &c.IssuedBy, &c.CreatedAt, &c.ExpiresAt)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("open link code of customer %d: %w", customerID, err)
	}
	return &c, nil
}

// RevokeCode closes the customer's open code (audited); nothing if none.
func (s *Service) RevokeCode(ctx context.Context, actor string, customerID int64) error {
	return s.db.Write(ctx, func(tx *sql.Tx) error { return s.revokeOpen(ctx, tx, actor, customerID, "staff") })
}

// letter builds the printable letter. Without the basic ID (LINE not
// reachable) it still prints, without the QR code: the customer can type
// the code in the chat.
func (s *Service) letter(ctx context.Context, card customer.Card, code string, issued, expires time.Time) Letter {
	l := Letter{CustomerNo: card.CustomerNo, Name: card.Name, Branch: card.Branch, Code: code,
		IssuedAt: issued.UnixMilli(), ExpiresAt: expires.UnixMilli(), Prefill: PrefillText(code)}
	basicID := s.basicID(ctx)
	if basicID == "" {
		return l
	}
	l.BasicID = basicID
	l.ChatURL = ChatURL(basicID, l.Prefill)
	if png, err := qrcode.Encode(l.ChatURL, qrcode.Medium, 320); err == nil {
		l.QRDataURL = "data:image/png;base64," + base64.StdEncoding.EncodeToString(png)
	}
	return l
}

// BotInfoTimeout bounds asking LINE for the basic ID while staff wait for
// a letter: without an answer the letter prints without its QR code.
const BotInfoTimeout = 5 * time.Second

// basicID asks LINE for the account's basic ID; "" if it cannot.
func (s *Service) basicID(ctx context.Context) string {
	if s.account == nil {
		return ""
	}
	ctx, cancel := context.WithTimeout(ctx, BotInfoTimeout)
	defer cancel()
	info, err := s.account.BotInfo(ctx)
	if err != nil {
		return ""
	}
	return info.BasicID
}

// ChatURL opens the official account's chat with text prefilled.
func ChatURL(basicID, text string) string {
	return "https://line.me/R/oaMessage/" + url.PathEscape(basicID) + "/?" + url.PathEscape(text)
}

// send delivers a code by email or SMS after its delivery row is stored, and
// records the outcome. The text names the customer only by 様 wording and
// carries the code, its validity and the chat link.
func (s *Service) send(ctx context.Context, codeID int64, channel, dest, key string, card customer.Card, code string, expires time.Time) string {
	link := ""
	if basicID := s.basicID(ctx); basicID != "" {
		link = ChatURL(basicID, PrefillText(code))
	}
	until := expires.In(jst).Format("2006年1月2日")
	var err error
	if channel == DeliveryEmail {
		err = s.notifier.SendEmail(ctx, dest, "LINE連携コードのお知らせ", EmailText(card.Name, code, until, link), key)
	} else {
		err = s.notifier.SendSMS(ctx, dest, SMSText(code, until, link), key)
	}
	status, at := "sent", sql.NullInt64{Int64: s.now().UnixMilli(), Valid: true}
	if err != nil {
		status, at = "failed", sql.NullInt64{}
	}
	if werr := s.db.Write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE link_code_deliveries SET status = ?, sent_at = ? WHERE idempotency_key = ?`, status, at, key)
		return err
	}); werr != nil {
		return "failed"
	}
	return status
}

// jst is Japan time, for the dates customers read.
var jst = time.FixedZone("JST", 9*60*60)

func int64s(ctx context.Context, tx *sql.Tx, q string, args ...any) ([]int64, error) {
	rows, err := tx.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var v int64
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}
