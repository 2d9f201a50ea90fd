// Package clicks is per-person link tracking. A campaign's LINE message
// carries, per recipient and link, https://RELAY/c/TENANT/TOKEN instead of
// the link: the token is random, made and stored here in the transaction
// that stores the recipient's LINE request (Minter), and published to the
// relay (token, target URL, expiry: nothing else) before that request is
// sent (Publish). The relay redirects a click at once and queues it sealed
// to this desktop's key; Record attributes each click to the customer
// through the stored token, stores it once, and writes a quiet line in the
// customer's conversation. A click on a token this DB does not know stores
// nothing.
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

// Minter makes the tokens of one campaign's recipients inside the
// transaction that stores their LINE requests.
type Minter struct {
	base     string
	campaign int64
	now, exp int64
	ins, sel *sql.Stmt
}

// NewMinter prepares minting in tx for campaign; base is Base's value. Close
// it before tx ends.
func (s *Service) NewMinter(ctx context.Context, tx *sql.Tx, campaign int64, base string) (*Minter, error) {
	now := s.now()
	m := &Minter{base: base, campaign: campaign, now: now.UnixMilli(), exp: now.Add(s.ttl).UnixMilli()}
	var err error
	if m.ins, err = tx.PrepareContext(ctx, `INSERT INTO tracked_links (token, campaign_id, customer_id, url, created_at, expires_at)
		VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (campaign_id, customer_id, url) DO NOTHING`); err != nil {
		return nil, fmt.Errorf("clicks: store tracked link: %w", err)
	}
	if m.sel, err = tx.PrepareContext(ctx, `SELECT token FROM tracked_links WHERE campaign_id = ? AND customer_id = ? AND url = ?`); err != nil {
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
	out := make(map[string]string, len(urls))
	for _, u := range urls {
		tok, err := newToken()
		if err != nil {
			return nil, err
		}
		res, err := m.ins.ExecContext(ctx, tok, m.campaign, customer, u, m.now, m.exp)
		if err != nil {
			return nil, fmt.Errorf("clicks: store tracked link: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			if err := m.sel.QueryRowContext(ctx, m.campaign, customer, u).Scan(&tok); err != nil {
				return nil, fmt.Errorf("clicks: find tracked link: %w", err)
			}
		}
		out[u] = m.base + tok
	}
	return out, nil
}

// Publish puts the campaign's tracked links that are not on the relay yet
// there, and marks them. It is called before any request carrying them is
// sent; with nothing to publish it costs one indexed query.
func (s *Service) Publish(ctx context.Context, campaign int64) error {
	for {
		links, err := s.unpublished(ctx, campaign, wire.MaxLinksPerUpload)
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
			st, err := tx.PrepareContext(ctx, `UPDATE tracked_links SET published_at = ? WHERE token = ?`)
			if err != nil {
				return err
			}
			defer st.Close()
			now := s.now().UnixMilli()
			for _, l := range links {
				if _, err := st.ExecContext(ctx, now, l.Token); err != nil {
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

func (s *Service) unpublished(ctx context.Context, campaign int64, n int) ([]wire.Link, error) {
	rows, err := s.db.Reader().QueryContext(ctx, `SELECT token, url, expires_at FROM tracked_links
		WHERE campaign_id = ? AND published_at IS NULL LIMIT ?`, campaign, n)
	if err != nil {
		return nil, fmt.Errorf("clicks: unpublished links: %w", err)
	}
	defer rows.Close()
	var out []wire.Link
	for rows.Next() {
		var l wire.Link
		if err := rows.Scan(&l.Token, &l.URL, &l.ExpiresAt); err != nil {
			return nil, fmt.Errorf("clicks: unpublished links: %w", err)
		}
		out = append(out, l)
	}
	return out, rows.Err()
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
