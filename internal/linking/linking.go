// Package linking ties LINE users to the institution's customers: by a
// one-time code the customer sends in the chat (printed on a letter with a QR
// code, or sent by email or SMS), optionally followed by an identity check,
// or by staff linking a conversation to a customer by hand. Every link,
// unlink, code and rejected attempt is audited.
//
// Schema: internal/store/migrations/0009_linking.sql (codes, deliveries,
// attempts); the link itself is customer_line_links (0003), whose unique
// keys make it one LINE user per customer and one customer per LINE user.
//
// Codes are 8 characters from an alphabet without look-alikes (no 0/O, 1/I),
// shown as XXXX-XXXX. Only their HMAC under a per-install salt is stored, so
// a copy of the DB does not hold usable codes.
package linking

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/google/uuid"

	"tsunagu/internal/audit"
	"tsunagu/internal/customer"
	"tsunagu/internal/fielderr"
	"tsunagu/internal/line"
	"tsunagu/internal/store"
)

// Errors callers may test with errors.Is.
var (
	ErrNotFound        = errors.New("linking: customer, conversation or code not found")
	ErrCustomerLinked  = errors.New("linking: the customer is already linked to a LINE user")
	ErrUserLinked      = errors.New("linking: the LINE user is already linked to a customer")
	ErrNotLinked       = errors.New("linking: the customer is not linked")
	ErrReasonRequired  = errors.New("linking: a reason is required")
	ErrNoNotifier      = errors.New("linking: email and SMS delivery are not available")
	ErrDestination     = errors.New("linking: the destination is not a contact point of the customer")
	ErrNoBirthDate     = errors.New("linking: the identity check needs the customer's birth date on file")
	ErrInvalidSetting  = errors.New("linking: invalid setting")
	ErrInvalidDelivery = errors.New("linking: unknown delivery")
)

// Audited actions of the linking feature. The link and unlink themselves use
// the customer feature's actions (customer.link_line, customer.unlink_line)
// so a customer's history reads the same whoever made the change.
const (
	ActionCodeIssue       = "linking.code_issue"
	ActionCodeRevoke      = "linking.code_revoke"
	ActionCodeRejected    = "linking.code_rejected"
	ActionCodeAccepted    = "linking.code_accepted" // valid code, identity check pending
	ActionIdentityFailed  = "linking.identity_failed"
	ActionCodeInvalidated = "linking.code_invalidated"
	ActionRelink          = "linking.relink"
)

// Actor is the audit actor of what the app does by itself on a customer's
// message (redeeming a code, replying).
const Actor = "system:linking"

// SentBy is what the conversation shows as the sender of the app's replies.
const SentBy = "LINE連携（自動応答）"

// CodeNotifier sends a link code by email or SMS. The idempotency key is
// stored before the call, so a retried send can be recognised by the
// provider. internal/mail and internal/sms implement it.
type CodeNotifier interface {
	SendEmail(ctx context.Context, to, subject, text, idempotencyKey string) error
	SendSMS(ctx context.Context, to, text, idempotencyKey string) error
}

// AccountInfo is the part of the LINE layer that knows the official
// account's basic ID (line.Client.BotInfo), for the letter's QR code.
type AccountInfo interface {
	BotInfo(ctx context.Context) (line.BotInfo, error)
}

// Config holds the service's dependencies.
type Config struct {
	DB       *store.DB
	Clock    func() time.Time // nil: time.Now
	Notifier CodeNotifier     // nil: codes go out on letters only
	Account  AccountInfo      // nil: letters carry no QR code
	NewKey   func() string    // idempotency keys; nil: random UUIDs
	NewCode  func() string    // nil: random codes (tests inject fixed ones)
	// Channels reports which of email and SMS are set up now (a notifier
	// may exist before its SMTP server or SMS provider is configured);
	// nil: both, if there is a notifier.
	Channels func(ctx context.Context) (email, sms bool)
}

// Service issues and redeems codes and links customers.
type Service struct {
	db       *store.DB
	now      func() time.Time
	notifier CodeNotifier
	account  AccountInfo
	newKey   func() string
	newCode  func() string
	channels func(ctx context.Context) (email, sms bool)

	customers *customer.Service // the cards codes are issued for and links shown with
}

// New returns a Service.
func New(cfg Config) (*Service, error) {
	if cfg.DB == nil {
		return nil, errors.New("linking: DB is required")
	}
	s := &Service{db: cfg.DB, now: cfg.Clock, notifier: cfg.Notifier, account: cfg.Account, newKey: cfg.NewKey, newCode: cfg.NewCode,
		channels: cfg.Channels}
	if s.now == nil {
		s.now = time.Now
	}
	s.customers = customer.New(cfg.DB, s.now)
	if s.newKey == nil {
		s.newKey = uuid.NewString
	}
	if s.newCode == nil {
		s.newCode = NewCode
	}
	return s, nil
}

// Channels reports whether codes can be sent by email and by SMS now.
func (s *Service) Channels(ctx context.Context) (email, sms bool) {
	if s.notifier == nil {
		return false, false
	}
	if s.channels == nil {
		return true, true
	}
	return s.channels(ctx)
}

// --- settings ---

// Settings an administrator changes (security_settings; audited).
type Settings struct {
	CodeValidityDays int `json:"codeValidityDays"`
	// IdentityCheck is "off" or "birthDate": after a valid code the
	// customer must also send their birth date.
	IdentityCheck string `json:"identityCheck"`
}

// Validate names every wrong field at once (fielderr, by JSON name) for
// the link settings form.
func (v Settings) Validate() error {
	var l fielderr.List
	if v.CodeValidityDays < 1 || v.CodeValidityDays > MaxCodeDays {
		l.AddBetween("codeValidityDays", 1, MaxCodeDays)
	}
	if v.IdentityCheck != IdentityOff && v.IdentityCheck != IdentityBirthDate {
		l.Add("identityCheck", fielderr.Choose)
	}
	return l.Err(ErrInvalidSetting)
}

// Setting keys and defaults.
const (
	SettingCodeDays      = "linking_code_days"
	SettingIdentityCheck = "linking_identity_check"
	DefaultCodeDays      = 14
	MaxCodeDays          = 90
	IdentityOff          = "off"
	IdentityBirthDate    = "birthDate"
)

// Settings returns the current settings.
func (s *Service) Settings(ctx context.Context) (Settings, error) {
	return readSettings(ctx, s.db.Reader())
}

type queryer interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func readSettings(ctx context.Context, q queryer) (Settings, error) {
	out := Settings{CodeValidityDays: DefaultCodeDays, IdentityCheck: IdentityOff}
	days, err := setting(ctx, q, SettingCodeDays)
	if err != nil {
		return out, err
	}
	if n, err := strconv.Atoi(days); err == nil && n >= 1 && n <= MaxCodeDays {
		out.CodeValidityDays = n
	}
	check, err := setting(ctx, q, SettingIdentityCheck)
	if err != nil {
		return out, err
	}
	if check == IdentityBirthDate {
		out.IdentityCheck = IdentityBirthDate
	}
	return out, nil
}

func setting(ctx context.Context, q queryer, key string) (string, error) {
	var v string
	err := q.QueryRowContext(ctx, `SELECT value FROM security_settings WHERE key = ?`, key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("read setting %s: %w", key, err)
	}
	return v, nil
}

// SetSettings changes the settings in one transaction; each changed value is
// audited (settings.change, old and new value) by actor.
func (s *Service) SetSettings(ctx context.Context, actor string, v Settings) error {
	if err := v.Validate(); err != nil {
		return err
	}
	return s.db.Write(ctx, func(tx *sql.Tx) error {
		cur, err := readSettings(ctx, tx)
		if err != nil {
			return err
		}
		// Only what changes in effect is written and audited (unset means
		// the default).
		var changes [][2]string
		if cur.CodeValidityDays != v.CodeValidityDays {
			changes = append(changes, [2]string{SettingCodeDays, strconv.Itoa(v.CodeValidityDays)})
		}
		if cur.IdentityCheck != v.IdentityCheck {
			changes = append(changes, [2]string{SettingIdentityCheck, v.IdentityCheck})
		}
		for _, kv := range changes {
			old, err := setting(ctx, tx, kv[0])
			if err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO security_settings(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value`, kv[0], kv[1]); err != nil {
				return fmt.Errorf("write setting %s: %w", kv[0], err)
			}
			if _, err := audit.Record(ctx, tx, audit.Entry{At: s.now().UnixMilli(), Actor: actor, Action: audit.ActionSettings,
				Target: kv[0], Detail: map[string]string{"old": old, "new": kv[1]}}); err != nil {
				return err
			}
		}
		return nil
	})
}

// --- helpers ---

// record audits an action on a customer inside tx, naming the customer by
// ID and number (never by name).
func (s *Service) record(ctx context.Context, tx *sql.Tx, actor, action string, customerID int64, detail map[string]string) error {
	var no string
	err := tx.QueryRowContext(ctx, `SELECT customer_no FROM customers WHERE id = ?`, customerID).Scan(&no)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("customer %d: %w", customerID, ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("customer %d: %w", customerID, err)
	}
	if detail == nil {
		detail = map[string]string{}
	}
	detail["customerNo"] = no
	_, err = audit.Record(ctx, tx, audit.Entry{At: s.now().UnixMilli(), Actor: actor, Action: action, Target: customer.Target(customerID), Detail: detail})
	return err
}

// recordConversation audits an event of a conversation whose LINE user is
// not (yet) known to be anyone: the target is the conversation.
func (s *Service) recordConversation(ctx context.Context, tx *sql.Tx, action string, convID int64, detail map[string]string) error {
	_, err := audit.Record(ctx, tx, audit.Entry{At: s.now().UnixMilli(), Actor: Actor, Action: action,
		Target: "conversation:" + strconv.FormatInt(convID, 10), Detail: detail})
	return err
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
