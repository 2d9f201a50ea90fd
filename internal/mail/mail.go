// Package mail sends plain-text email over SMTP (STARTTLS or implicit TLS,
// with authentication and timeouts) through github.com/wneessen/go-mail.
//
// SMTP has no idempotency: a message the server accepted but whose answer
// was lost cannot be asked about. Send therefore tells a caller whether a
// failure is definite (the server refused, or nothing was handed over) or
// uncertain (the message may have been delivered), so that the caller never
// resends an uncertain message blindly. Every message carries a Message-ID
// derived from the caller's idempotency key, so a copy that does arrive
// twice (a person resent it) is recognisable in the recipient's mailbox and
// the server's logs.
package mail

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/mail"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"

	"tsunagu/internal/fielderr"
)

// TLS modes.
const (
	TLSStartTLS = "starttls" // port 587: plain connection upgraded with STARTTLS (required)
	TLSImplicit = "tls"      // port 465: TLS from the first byte
	TLSNone     = "none"     // loopback only (a local relay or test server)
)

// DefaultTimeout bounds connecting and each SMTP exchange.
const DefaultTimeout = 30 * time.Second

// Settings are the SMTP server settings (stored in the DB; the password is
// in the keychain).
type Settings struct {
	Host     string `json:"host"`
	Port     int    `json:"port"`
	TLS      string `json:"tls"`
	User     string `json:"user"`
	From     string `json:"from"`     // envelope and header sender, e.g. info@example-shinkin.jp
	FromName string `json:"fromName"` // display name, e.g. ○○信用金庫
}

// Errors.
var (
	ErrInvalid = errors.New("mail: invalid settings or message")
	// ErrUncertain wraps a failure after which the message may or may not
	// have been delivered.
	ErrUncertain = errors.New("mail: delivery uncertain")
)

// Validate checks the settings and names every wrong field by its JSON
// name in Settings (fielderr), so the settings form marks them all.
func (s Settings) Validate() error {
	var l fielderr.List
	switch {
	case strings.TrimSpace(s.Host) == "":
		l.Add("host", fielderr.Required)
	case strings.ContainsAny(s.Host, " /:@"):
		l.Add("host", fielderr.Format)
	}
	if s.Port <= 0 || s.Port > 65535 {
		l.Add("port", fielderr.Format)
	}
	switch {
	case s.TLS != TLSStartTLS && s.TLS != TLSImplicit && s.TLS != TLSNone:
		l.Add("tls", fielderr.Choose)
	case s.TLS == TLSNone && s.Host != "" && !isLoopback(s.Host):
		// The password and every customer's address would cross the network in clear.
		l.Add("tls", fielderr.Loopback)
	}
	if strings.TrimSpace(s.From) == "" {
		l.Add("from", fielderr.Required)
	} else if _, err := mail.ParseAddress(s.From); err != nil {
		l.Add("from", fielderr.Format)
	}
	return l.Err(ErrInvalid)
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Message is one plain-text email.
type Message struct {
	To        string
	Subject   string
	Text      string
	MessageID string // without angle brackets; see MessageID
}

// MessageID derives a Message-ID from an idempotency key: the same key
// always gives the same ID, and the ID reveals nothing of the key.
func MessageID(idempotencyKey, from string) string {
	domain := "tsunagu.invalid"
	if a, err := mail.ParseAddress(from); err == nil {
		if i := strings.LastIndexByte(a.Address, '@'); i >= 0 {
			domain = a.Address[i+1:]
		}
	}
	sum := sha256.Sum256([]byte(idempotencyKey))
	return hex.EncodeToString(sum[:16]) + "@" + domain
}

// Client sends through one SMTP server.
type Client struct {
	s        Settings
	password string
	tls      *tls.Config
	timeout  time.Duration
}

// Options are a client's optional settings.
type Options struct {
	// TLSConfig overrides the TLS configuration (tests trust their own
	// certificate with it); nil verifies the server against the system roots.
	TLSConfig *tls.Config
	Timeout   time.Duration // 0: DefaultTimeout
}

// New returns a client; password may be empty for a server without AUTH.
func New(s Settings, password string, opts Options) (*Client, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	c := &Client{s: s, password: password, tls: opts.TLSConfig, timeout: opts.Timeout}
	if c.timeout <= 0 {
		c.timeout = DefaultTimeout
	}
	if c.tls == nil {
		c.tls = &tls.Config{ServerName: s.Host, MinVersion: tls.VersionTLS12}
	}
	return c, nil
}

// From is the sender address.
func (c *Client) From() string { return c.s.From }

// String never shows the password.
func (c *Client) String() string {
	return fmt.Sprintf("mail.Client(%s:%d %s)", c.s.Host, c.s.Port, c.s.TLS)
}

// Send delivers m. An error wrapping ErrUncertain means the server may
// have accepted the message; any other error means it did not.
func (c *Client) Send(ctx context.Context, m Message) error {
	if _, err := mail.ParseAddress(m.To); err != nil || strings.ContainsAny(m.To, "\r\n") {
		return fmt.Errorf("%w: recipient address", ErrInvalid)
	}
	if strings.ContainsAny(m.Subject, "\r\n") {
		return fmt.Errorf("%w: subject", ErrInvalid)
	}
	msg := gomail.NewMsg(gomail.WithCharset(gomail.CharsetUTF8), gomail.WithEncoding(gomail.EncodingB64))
	from := c.s.From
	if c.s.FromName != "" {
		from = (&mail.Address{Name: c.s.FromName, Address: c.s.From}).String()
	}
	if err := msg.From(from); err != nil {
		return fmt.Errorf("%w: from: %w", ErrInvalid, err)
	}
	if err := msg.To(m.To); err != nil {
		return fmt.Errorf("%w: to: %w", ErrInvalid, err)
	}
	msg.Subject(m.Subject)
	msg.SetDate()
	if m.MessageID != "" {
		msg.SetMessageIDWithValue(m.MessageID)
	}
	msg.SetBodyString(gomail.TypeTextPlain, m.Text)

	opts := []gomail.Option{gomail.WithPort(c.s.Port), gomail.WithTimeout(c.timeout), gomail.WithTLSConfig(c.tls)}
	switch c.s.TLS {
	case TLSStartTLS:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	case TLSImplicit:
		opts = append(opts, gomail.WithSSL())
	default:
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	}
	if c.s.User != "" {
		opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthPlain), gomail.WithUsername(c.s.User), gomail.WithPassword(c.password))
	}
	cl, err := gomail.NewClient(c.s.Host, opts...)
	if err != nil {
		return fmt.Errorf("mail: %w", err)
	}
	if err := cl.DialAndSendWithContext(ctx, msg); err != nil {
		if uncertain(err) {
			return fmt.Errorf("%w: %w", ErrUncertain, err)
		}
		return fmt.Errorf("mail: send: %w", err)
	}
	return nil
}

// uncertain reports whether the message may have been delivered: the
// failure came after its content was handed over and is not the server's
// refusal of it.
func uncertain(err error) bool {
	var se *gomail.SendError
	if !errors.As(err, &se) {
		// Dialling, TLS or authentication: nothing was handed over.
		return false
	}
	switch se.Reason {
	case gomail.ErrGetSender, gomail.ErrGetRcpts, gomail.ErrSMTPMailFrom, gomail.ErrSMTPRcptTo, gomail.ErrSMTPData, gomail.ErrNoUnencoded:
		return false
	case gomail.ErrSMTPDataClose:
		// The server's answer to the end of the data: a reply code
		// means it refused the message; no code means the answer was lost.
		return se.ErrorCode() == 0
	}
	return true
}
