// Package clicks is per-person link tracking. A campaign's, reminder's,
// welcome step's or staff reply's LINE message carries, per recipient and
// link, https://RELAY/c/TENANT/TOKEN instead of the link: the token is
// random, made and stored here in the transaction that stores the
// recipient's LINE request (Minter), and published to the relay (token,
// target URL, expiry: nothing else) before that request is sent (Publish).
// The relay redirects a click at once and queues it sealed to this
// desktop's key; Record attributes each click to the recipient through the
// stored token, stores it once, and writes a quiet line in their
// conversation. A click on a token this DB does not know stores nothing.
package clicks

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"tsunagu/internal/relay/wire"
	"tsunagu/internal/store"
)

// DefaultTTL is how long a tracked link redirects (then the relay shows its
// neutral page).
const DefaultTTL = 180 * 24 * time.Hour

// KindClick is the conversation message kind of a click line.
const KindClick = "link_click"

// Publisher puts token → URL mappings on the relay (relayclient.Client).
type Publisher interface {
	PublishLinks(ctx context.Context, links []wire.Link) error
}

// Relay is where tracked links point: the base "https://RELAY/c/TENANT/"
// and the publisher. ok is false when no relay is enrolled: then links are
// sent as written, untracked.
type Relay func(ctx context.Context) (base string, pub Publisher, ok bool)

// Config configures a Service.
type Config struct {
	DB    *store.DB
	Relay Relay            // nil: no relay, nothing is tracked
	Clock func() time.Time // [time.Now]
	TTL   time.Duration    // [DefaultTTL]
}

// Service tracks links.
type Service struct {
	db    *store.DB
	relay Relay
	now   func() time.Time
	ttl   time.Duration
}

// New returns a Service.
func New(cfg Config) (*Service, error) {
	if cfg.DB == nil {
		return nil, errors.New("clicks: a DB is required")
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	if cfg.TTL <= 0 {
		cfg.TTL = DefaultTTL
	}
	return &Service{db: cfg.DB, relay: cfg.Relay, now: cfg.Clock, ttl: cfg.TTL}, nil
}

// ErrNoRelay: links are to be tracked but no relay is enrolled.
var ErrNoRelay = errors.New("clicks: no webhook relay is enrolled, so links cannot be tracked")

// Base returns the prefix of tracked links ("" when no relay is enrolled).
func (s *Service) Base(ctx context.Context) string {
	if s == nil || s.relay == nil {
		return ""
	}
	base, _, ok := s.relay(ctx)
	if !ok {
		return ""
	}
	return base
}

// linkPattern finds links in message text: http(s) up to the first
// character that cannot be in a URL (Japanese text around a link ends it).
var linkPattern = regexp.MustCompile(`https?://[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]+`)

// FindLinks returns the distinct links of s, in order.
func FindLinks(s string) []string {
	var out []string
	for _, u := range linkPattern.FindAllString(s, -1) {
		u = trimTrailing(u)
		if !contains(out, u) {
			out = append(out, u)
		}
	}
	return out
}

// ReplaceLinks replaces every link of s found in m by its value.
func ReplaceLinks(s string, m map[string]string) string {
	if len(m) == 0 {
		return s
	}
	return linkPattern.ReplaceAllStringFunc(s, func(u string) string {
		core := trimTrailing(u)
		if t, ok := m[core]; ok {
			return t + u[len(core):]
		}
		return u
	})
}

// trimTrailing drops sentence punctuation a link is usually followed by.
func trimTrailing(u string) string { return strings.TrimRight(u, ".,;:!?)'") }

func contains(xs []string, x string) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}

// newToken makes a link token: 24 random bytes, base64url (wire.TokenLen).
func newToken() (string, error) {
	var b [24]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("clicks: token: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b[:]), nil
}

// Kinds of Source.
const (
	SourceCampaign   = "campaign"   // ID: the campaign
	SourceAutomation = "automation" // ID: the rule; Key: the reminder's day or "step-N"
	SourceReply      = "reply"      // ID: the staff reply's message (inbox)
)

// Source is the send a tracked link was made for.
type Source struct {
	Kind string
	ID   int64
	Key  string // which send of the source ("" for a one-off send)
}

// Campaign is a campaign's Source.
func Campaign(id int64) Source { return Source{Kind: SourceCampaign, ID: id} }

// Recipient is who a tracked link was sent to: a customer, or (a welcome
// step to a friend not linked yet) only a LINE user. A click is
// attributed to the customer and written in the LINE user's conversation
// (the customer's linked one when only the customer is known).
type Recipient struct {
	Customer int64  // 0: not a customer
	LineUser string // "": the customer's linked LINE user
}

// Minter makes the tokens of one send's recipients inside the transaction
// that stores their LINE requests.
type Minter struct {
	base     string
	src      Source
	now, exp int64
	ins, sel *sql.Stmt
}

// NewMinter prepares minting in tx for a campaign; base is Base's value.
// Close it before tx ends.
func (s *Service) NewMinter(ctx context.Context, tx *sql.Tx, campaign int64, base string) (*Minter, error) {
	return s.NewSourceMinter(ctx, tx, Campaign(campaign), base)
}

// NewSourceMinter prepares minting in tx for src; base is Base's value.
// Close it before tx ends.
func (s *Service) NewSourceMinter(ctx context.Context, tx *sql.Tx, src Source, base string) (*Minter, error) {
	switch src.Kind {
	case SourceCampaign, SourceAutomation, SourceReply:
	default:
		return nil, fmt.Errorf("clicks: unknown link source %q", src.Kind)
	}
	now := s.now()
	m := &Minter{base: base, src: src, now: now.UnixMilli(), exp: now.Add(s.ttl).UnixMilli()}
	var err error
	// No conflict target: the one uniqueness that can meet is
	// tracked_links_once (a token is 192 random bits).
	if m.ins, err = tx.PrepareContext(ctx, `INSERT INTO tracked_links (token, source, source_id, send_key, customer_id, line_user_id, url, created_at, expires_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`); err != nil {
		return nil, fmt.Errorf("clicks: store tracked link: %w", err)
	}
	if m.sel, err = tx.PrepareContext(ctx, `SELECT token FROM tracked_links WHERE source = ? AND source_id = ? AND send_key = ?
		AND ifnull(customer_id, 0) = ? AND ifnull(line_user_id, '') = ? AND url = ?`); err != nil {
		m.Close()
		return nil, fmt.Errorf("clicks: store tracked link: %w", err)
	}
	return m, nil
}

// Close releases the statements.
func (m *Minter) Close() {
	for _, st := range []*sql.Stmt{m.ins, m.sel} {
		if st != nil {
			st.Close()
		}
	}
}

// Links returns, for each of urls, the customer's tracked link: a new
// token, or the one made for them before (a retried expansion sends the
// same link).
func (m *Minter) Links(ctx context.Context, customer int64, urls []string) (map[string]string, error) {
	return m.LinksFor(ctx, Recipient{Customer: customer}, urls)
}

// LinksFor is Links for any recipient.
func (m *Minter) LinksFor(ctx context.Context, to Recipient, urls []string) (map[string]string, error) {
	if to.Customer == 0 && to.LineUser == "" {
		return nil, errors.New("clicks: a tracked link needs a recipient")
	}
	var cust, user any
	if to.Customer != 0 {
		cust = to.Customer
	}
	if to.LineUser != "" {
		user = to.LineUser
	}
	out := make(map[string]string, len(urls))
	for _, u := range urls {
		tok, err := newToken()
		if err != nil {
			return nil, err
		}
		res, err := m.ins.ExecContext(ctx, tok, m.src.Kind, m.src.ID, m.src.Key, cust, user, u, m.now, m.exp)
		if err != nil {
			return nil, fmt.Errorf("clicks: store tracked link: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			if err := m.sel.QueryRowContext(ctx, m.src.Kind, m.src.ID, m.src.Key, to.Customer, to.LineUser, u).Scan(&tok); err != nil {
				return nil, fmt.Errorf("clicks: find tracked link: %w", err)
			}
		}
		out[u] = m.base + tok
	}
	return out, nil
}

// Publish puts the campaign's tracked links that are not on the relay yet
// there, and marks them (PublishSource).
func (s *Service) Publish(ctx context.Context, campaign int64) error {
	return s.PublishSource(ctx, Source{Kind: SourceCampaign, ID: campaign})
}

// PublishSource puts src's tracked links (of every Key) that are not on
// the relay yet there, and marks them. It is called before any request
// carrying them is sent; with nothing to publish it costs one indexed
// query.
func (s *Service) PublishSource(ctx context.Context, src Source) error {
	for {
		ids, links, err := s.unpublished(ctx, src, wire.MaxLinksPerUpload)
		if err != nil || len(links) == 0 {
			return err
		}
		if s.relay == nil {
			return ErrNoRelay
		}
		_, pub, ok := s.relay(ctx)
		if !ok {
			return ErrNoRelay
		}
		if err := pub.PublishLinks(ctx, links); err != nil {
			return fmt.Errorf("clicks: publish %d tracked links: %w", len(links), err)
		}
		err = s.db.Write(ctx, func(tx *sql.Tx) error {
			st, err := tx.PrepareContext(ctx, `UPDATE tracked_links SET published_at = ? WHERE id = ?`)
			if err != nil {
				return err
			}
			defer st.Close()
			now := s.now().UnixMilli()
			for _, id := range ids {
				if _, err := st.ExecContext(ctx, now, id); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("clicks: mark tracked links published: %w", err)
		}
	}
}

func (s *Service) unpublished(ctx context.Context, src Source, n int) ([]int64, []wire.Link, error) {
	rows, err := s.db.Reader().QueryContext(ctx, `SELECT id, token, url, expires_at FROM tracked_links
		WHERE source = ? AND source_id = ? AND published_at IS NULL ORDER BY id LIMIT ?`, src.Kind, src.ID, n)
	if err != nil {
		return nil, nil, fmt.Errorf("clicks: unpublished links: %w", err)
	}
	defer rows.Close()
	var (
		ids []int64
		out []wire.Link
	)
	for rows.Next() {
		var (
			id int64
			l  wire.Link
		)
		if err := rows.Scan(&id, &l.Token, &l.URL, &l.ExpiresAt); err != nil {
			return nil, nil, fmt.Errorf("clicks: unpublished links: %w", err)
		}
		ids, out = append(ids, id), append(out, l)
	}
	return ids, out, rows.Err()
}

// trackedPath is the end of a tracked link: /c/TENANT/TOKEN.
var trackedPath = regexp.MustCompile(`/c/[A-Za-z0-9]+/([A-Za-z0-9_-]{32})$`)

// Untrack returns text with each of its tracked links (of tokens this DB
// made) back as the link the campaign wrote: the copy in a conversation
// shows the clerk the link, never a token.
func Untrack(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}, text string) string {
	return linkPattern.ReplaceAllStringFunc(text, func(u string) string {
		core := trimTrailing(u)
		m := trackedPath.FindStringSubmatch(core)
		if m == nil {
			return u
		}
		var orig string
		if err := q.QueryRowContext(ctx, `SELECT url FROM tracked_links WHERE token = ?`, m[1]).Scan(&orig); err != nil {
			return u
		}
		return orig + u[len(core):]
	})
}
