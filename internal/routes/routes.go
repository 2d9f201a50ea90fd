// Package routes is inflow routes (流入経路): one QR code/URL per poster,
// flyer or staff member, the friends it brought, a tag and a welcome
// message per route, and a report. A route's URL is
// https://RELAY/r/TENANT/TOKEN: the relay holds only the token → target
// URL (LINE's add-friend URL or a page), redirects, and queues each visit
// sealed to this desktop (token, time, a random visit ID). A follow is
// attributed to the route whose unclaimed visits came shortly before it,
// only when they all belong to one route (attribute.go, docs/routes.md).
package routes

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"tsunagu/internal/audit"
	"tsunagu/internal/fielderr"
	"tsunagu/internal/relay/wire"
	"tsunagu/internal/store"
)

// Audit actions.
const (
	ActionCreate  = "route.create"
	ActionUpdate  = "route.update"
	ActionArchive = "route.archive"
	ActionExport  = "route.export" // a QR code, a poster or the report saved to a file
)

// Targets of a route.
const (
	TargetFriend = "friend" // LINE's add-friend screen of the official account
	TargetPage   = "page"   // a web page (which may itself invite to add the account)
)

// Limits of a route's fields.
const (
	MaxName    = 40
	MaxWelcome = 5000 // LINE's text message limit
	MaxPageURL = 1000 // LINE's own URI limit; the relay allows wire.MaxLinkURL
)

// Errors.
var (
	ErrNotFound  = errors.New("routes: no such route")
	ErrInvalid   = errors.New("routes: the route is not valid")
	ErrNoBasicID = errors.New("routes: the official account's basic ID is not known yet (LINE not reachable)")
)

// Publisher puts token → URL mappings on the relay (relayclient.Client).
type Publisher interface {
	PublishLinks(ctx context.Context, links []wire.Link) error
}

// Relay is where route URLs point: the base "https://RELAY/r/TENANT/" and
// the publisher; ok is false when no relay is enrolled (no route URL yet).
type Relay func(ctx context.Context) (base string, pub Publisher, ok bool)

// Config configures a Service.
type Config struct {
	DB    *store.DB
	Relay Relay // nil: routes have no URL
	// Account is the official account's name and basic ID ("@123abcde",
	// for LINE's add-friend URL https://line.me/R/ti/p/@ID), from LINE.
	Account func(ctx context.Context) (Account, error)
	Clock   func() time.Time // [time.Now]
	// Window is how long before a follow a visit may explain it
	// [DefaultWindow].
	Window time.Duration
}

// DefaultWindow: scanning a poster, opening LINE and tapping 追加 takes
// well under a minute; five minutes allows a slow phone or a second try
// while keeping the chance that an unrelated friend falls in it small at a
// branch's rate of a few new friends a day (docs/routes.md).
const DefaultWindow = 5 * time.Minute

// publishTTL is how long the relay keeps a route (its bucket keeps nothing
// longer than 400 days); republishEvery renews it long before that.
const (
	publishTTL     = 365 * 24 * time.Hour
	republishEvery = 30 * 24 * time.Hour
)

// Service manages routes.
type Service struct {
	db      *store.DB
	relay   Relay
	account func(ctx context.Context) (Account, error)
	now     func() time.Time
	window  time.Duration
}

// New returns a Service.
func New(cfg Config) (*Service, error) {
	if cfg.DB == nil {
		return nil, errors.New("routes: a DB is required")
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	if cfg.Window <= 0 {
		cfg.Window = DefaultWindow
	}
	return &Service{db: cfg.DB, relay: cfg.Relay, account: cfg.Account, now: cfg.Clock, window: cfg.Window}, nil
}

// Account is the official account as LINE describes it.
type Account struct {
	Name    string `json:"name"`    // the display name friends see (the poster's default heading)
	BasicID string `json:"basicId"` // "@123abcde"
}

// AccountInfo returns the official account's name and basic ID.
func (s *Service) AccountInfo(ctx context.Context) (Account, error) {
	if s.account == nil {
		return Account{}, ErrNoBasicID
	}
	a, err := s.account(ctx)
	if err != nil || a.BasicID == "" {
		return Account{}, fmt.Errorf("%w: %v", ErrNoBasicID, err)
	}
	return a, nil
}

// Draft is what the editor sends.
type Draft struct {
	Name    string `json:"name"`
	Target  string `json:"target"`  // TargetFriend or TargetPage
	PageURL string `json:"pageUrl"` // TargetPage only
	Tag     string `json:"tag"`     // a tag's name; "": no tag
	Welcome string `json:"welcome"` // "": no welcome message
}

// Route is one route as the list shows it.
type Route struct {
	ID      int64  `json:"id"`
	Name    string `json:"name"`
	Target  string `json:"target"`
	PageURL string `json:"pageUrl"`
	Tag     string `json:"tag"` // "": no tag
	Welcome string `json:"welcome"`
	// URL is what the QR code holds ("" while no relay is enrolled);
	// Published says the relay knows its current target.
	URL       string `json:"url"`
	Published bool   `json:"published"`
	Archived  bool   `json:"archived"`
	Friends   int    `json:"friends"` // friends attributed to it
	Visits    int    `json:"visits"`
	CreatedAt int64  `json:"createdAt"`
	UpdatedAt int64  `json:"updatedAt"`
}

// validate names the wrong fields of d (tx: to check the tag and the name)
// and returns the tag's ID (0: none).
func validate(ctx context.Context, q store.Execer, d Draft, self int64) (int64, error) {
	var l fielderr.List
	name := strings.TrimSpace(d.Name)
	switch {
	case name == "":
		l.Add("name", fielderr.Required)
	case strings.ContainsAny(name, "\r\n"):
		l.Add("name", fielderr.OneLine)
	case utf8.RuneCountInString(name) > MaxName:
		l.AddMax("name", fielderr.TooLong, MaxName)
	default:
		var taken bool
		if err := q.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM routes WHERE name = ? AND archived_at IS NULL AND id <> ?)`, name, self).Scan(&taken); err != nil {
			return 0, fmt.Errorf("routes: check name: %w", err)
		}
		if taken {
			l.Add("name", fielderr.Taken)
		}
	}
	switch d.Target {
	case TargetFriend:
	case TargetPage:
		u, err := url.Parse(strings.TrimSpace(d.PageURL))
		switch {
		case strings.TrimSpace(d.PageURL) == "":
			l.Add("pageUrl", fielderr.Required)
		case utf8.RuneCountInString(d.PageURL) > MaxPageURL:
			l.AddMax("pageUrl", fielderr.TooLong, MaxPageURL)
		case err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil:
			l.Add("pageUrl", fielderr.HTTPS)
		}
	default:
		l.Add("target", fielderr.Choose)
	}
	var tag int64
	if d.Tag != "" {
		err := q.QueryRowContext(ctx, `SELECT id FROM tags WHERE name = ?`, d.Tag).Scan(&tag)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			l.Add("tag", fielderr.Choose)
		case err != nil:
			return 0, fmt.Errorf("routes: check tag: %w", err)
		}
	}
	if utf8.RuneCountInString(d.Welcome) > MaxWelcome {
		l.AddMax("welcome", fielderr.TooLong, MaxWelcome)
	}
	return tag, l.Err(ErrInvalid)
}

func clean(d Draft) Draft {
	d.Name = strings.TrimSpace(d.Name)
	d.PageURL = strings.TrimSpace(d.PageURL)
	d.Tag = strings.TrimSpace(d.Tag)
	if d.Target != TargetPage {
		d.PageURL = ""
	}
	if strings.TrimSpace(d.Welcome) == "" {
		d.Welcome = ""
	}
	return d
}

func nullTag(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

func target(id int64) string { return "route:" + strconv.FormatInt(id, 10) }

// detail is what the audit trail keeps of a route (its settings; the
// welcome text only as a length, like other message bodies).
func detail(d Draft) map[string]string {
	m := map[string]string{"name": d.Name, "routeTarget": d.Target, "welcomeChars": strconv.Itoa(utf8.RuneCountInString(d.Welcome))}
	if d.PageURL != "" {
		m["pageUrl"] = d.PageURL
	}
	if d.Tag != "" {
		m["tag"] = d.Tag
	}
	return m
}

// newToken makes a route token: 24 random bytes, base64url (wire.TokenLen).
func newToken() (string, error) {
	var b [24]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("routes: token: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b[:]), nil
}

// Create adds a route; audited in the same transaction. It then tries to
// publish it to the relay (a failure leaves it unpublished, retried by
// Publish).
func (s *Service) Create(ctx context.Context, actor string, d Draft) (Route, error) {
	d = clean(d)
	token, err := newToken()
	if err != nil {
		return Route{}, err
	}
	var id int64
	err = s.db.Write(ctx, func(tx *sql.Tx) error {
		tag, err := validate(ctx, tx, d, 0)
		if err != nil {
			return err
		}
		now := s.now().UnixMilli()
		if err := tx.QueryRowContext(ctx, `INSERT INTO routes (name, target, page_url, tag_id, welcome, token, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, d.Name, d.Target, d.PageURL, nullTag(tag), d.Welcome, token, now, now).Scan(&id); err != nil {
			return fmt.Errorf("store route: %w", err)
		}
		_, err = audit.Record(ctx, tx, audit.Entry{At: now, Actor: actor, Action: ActionCreate, Target: target(id), Detail: detail(d)})
		return err
	})
	if err != nil {
		return Route{}, fmt.Errorf("routes: create: %w", err)
	}
	s.publishQuietly(ctx)
	return s.Get(ctx, id)
}

// Update changes a route's settings (its URL and QR code stay); audited.
func (s *Service) Update(ctx context.Context, actor string, id int64, d Draft) (Route, error) {
	d = clean(d)
	err := s.db.Write(ctx, func(tx *sql.Tx) error {
		var archived sql.NullInt64
		err := tx.QueryRowContext(ctx, `SELECT archived_at FROM routes WHERE id = ?`, id).Scan(&archived)
		if errors.Is(err, sql.ErrNoRows) || archived.Valid {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		tag, err := validate(ctx, tx, d, id)
		if err != nil {
			return err
		}
		now := s.now().UnixMilli()
		if _, err := tx.ExecContext(ctx, `UPDATE routes SET name = ?, target = ?, page_url = ?, tag_id = ?, welcome = ?, updated_at = ? WHERE id = ?`,
			d.Name, d.Target, d.PageURL, nullTag(tag), d.Welcome, now, id); err != nil {
			return fmt.Errorf("store route: %w", err)
		}
		_, err = audit.Record(ctx, tx, audit.Entry{At: now, Actor: actor, Action: ActionUpdate, Target: target(id), Detail: detail(d)})
		return err
	})
	if err != nil {
		return Route{}, fmt.Errorf("routes: update %d: %w", id, err)
	}
	s.publishQuietly(ctx)
	return s.Get(ctx, id)
}

// Archive takes a route off the list; audited. Its QR code keeps opening
// LINE until the relay's copy expires (printed posters do not strand
// anyone), and its visits are still attributed, so the report stays true.
func (s *Service) Archive(ctx context.Context, actor string, id int64) error {
	err := s.db.Write(ctx, func(tx *sql.Tx) error {
		var name string
		err := tx.QueryRowContext(ctx, `UPDATE routes SET archived_at = ? WHERE id = ? AND archived_at IS NULL RETURNING name`, s.now().UnixMilli(), id).Scan(&name)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		_, err = audit.Record(ctx, tx, audit.Entry{At: s.now().UnixMilli(), Actor: actor, Action: ActionArchive, Target: target(id),
			Detail: map[string]string{"name": name}})
		return err
	})
	if err != nil {
		return fmt.Errorf("routes: archive %d: %w", id, err)
	}
	return nil
}

const selectRoute = `SELECT r.id, r.name, r.target, r.page_url, coalesce(t.name, ''), r.welcome, r.token,
	r.published_at IS NOT NULL, r.archived_at IS NOT NULL, r.created_at, r.updated_at,
	(SELECT COUNT(*) FROM route_friends f WHERE f.route_id = r.id),
	(SELECT COUNT(*) FROM route_visits v WHERE v.route_id = r.id)
	FROM routes r LEFT JOIN tags t ON t.id = r.tag_id`

func (s *Service) scan(ctx context.Context, base string, rows interface{ Scan(...any) error }) (Route, error) {
	var (
		r     Route
		token string
	)
	if err := rows.Scan(&r.ID, &r.Name, &r.Target, &r.PageURL, &r.Tag, &r.Welcome, &token,
		&r.Published, &r.Archived, &r.CreatedAt, &r.UpdatedAt, &r.Friends, &r.Visits); err != nil {
		return Route{}, err
	}
	if base != "" {
		r.URL = base + token
	}
	return r, nil
}

func (s *Service) base(ctx context.Context) string {
	if s.relay == nil {
		return ""
	}
	base, _, ok := s.relay(ctx)
	if !ok {
		return ""
	}
	return base
}

// List returns the routes, newest first; archived ones only if asked.
func (s *Service) List(ctx context.Context, archived bool) ([]Route, error) {
	base := s.base(ctx)
	q := selectRoute + ` WHERE r.archived_at IS NULL ORDER BY r.id DESC`
	if archived {
		q = selectRoute + ` ORDER BY r.archived_at IS NOT NULL, r.id DESC`
	}
	rows, err := s.db.Reader().QueryContext(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("routes: list: %w", err)
	}
	defer rows.Close()
	out := []Route{}
	for rows.Next() {
		r, err := s.scan(ctx, base, rows)
		if err != nil {
			return nil, fmt.Errorf("routes: list: %w", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// Get returns one route.
func (s *Service) Get(ctx context.Context, id int64) (Route, error) {
	r, err := s.scan(ctx, s.base(ctx), s.db.Reader().QueryRowContext(ctx, selectRoute+` WHERE r.id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Route{}, fmt.Errorf("routes: %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return Route{}, fmt.Errorf("routes: %d: %w", id, err)
	}
	return r, nil
}
