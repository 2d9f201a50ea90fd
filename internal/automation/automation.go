// Package automation sends messages on their own: welcome steps after a
// friend adds the account, and date reminders tied to the institution's own
// dates (a time deposit's maturity, a contract's anniversary, a birthday).
//
// Every occurrence has an idempotency key (rule + customer + occurrence
// date, or rule + friend + step) stored UNIQUE in the same transaction as
// the LINE retry keys (package outbox) before anything is sent; email and
// SMS go through campaign.Notifier under the same key. A crash resumes from
// those rows, so an occurrence reaches a person at most once.
//
// Like campaigns, a rule needs approval by someone other than its author,
// and any edit withdraws the approval.
package automation

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
	"tsunagu/internal/fielderr"

	"tsunagu/internal/audit"
	"tsunagu/internal/campaign"
	"tsunagu/internal/clicks"
	"tsunagu/internal/line"
	"tsunagu/internal/outbox"
	"tsunagu/internal/segment"
	"tsunagu/internal/store"
)

// Kinds of rules.
const (
	KindWelcome = "welcome"
	KindDate    = "date"
)

// Date fields a reminder can follow.
const (
	FieldMaturity    = "maturity"    // products.matures_on (満期日), once
	FieldAnniversary = "anniversary" // products.opened_on, yearly (契約応当日・更新日)
	FieldBirthday    = "birthday"    // customers.birth_date, yearly (誕生日)
)

// Statuses.
const (
	StatusDraft  = "draft"
	StatusActive = "active"
	StatusPaused = "paused"
)

// Audit actions.
const (
	ActionCreate   = "automation.create"
	ActionEdit     = "automation.edit"
	ActionApprove  = "automation.approve"
	ActionActivate = "automation.activate"
	ActionPause    = "automation.pause"
	ActionDelete   = "automation.delete"
	ActionSend     = "automation.send"
)

// DefaultLateness is how late a missed occurrence may still go out.
const DefaultLateness = 6 * time.Hour

// MaxLateness bounds the lateness a rule may set.
const MaxLateness = 72 * time.Hour

// DefaultTimeZone is the local time of rules that name none.
const DefaultTimeZone = "Asia/Tokyo"

// Errors a caller can act on.
var (
	ErrInvalid     = errors.New("automation: invalid")
	ErrNotFound    = errors.New("automation: not found")
	ErrOwnApproval = errors.New("automation: the author cannot approve their own rule")
	ErrNotApproved = errors.New("automation: not approved (or edited since its approval)")
	ErrStale       = errors.New("automation: it was changed since you opened it")
	ErrState       = errors.New("automation: not possible in its current state")
)

// Step is one welcome message: sent DelayDays after the follow at the local
// time At, or, with At empty, DelayHours after the follow.
type Step struct {
	DelayDays  int                    `json:"delayDays"`
	DelayHours int                    `json:"delayHours"`
	At         string                 `json:"at"` // HH:MM local, or ""
	Messages   []campaign.LineMessage `json:"messages"`
	// Untracked are the step's LINE links sent as written (「計測しない」);
	// every other link is tracked per friend while a relay is enrolled,
	// as a reminder's are (campaign.Content.Untracked).
	Untracked []string `json:"untracked,omitempty"`
}

// content is the step's messages as campaign content (its links' choice).
func (st Step) content() campaign.Content {
	return campaign.Content{Line: st.Messages, Untracked: st.Untracked}
}

// Spec is what a rule does.
type Spec struct {
	// Date reminders.
	Field       string           `json:"field,omitempty"`       // maturity, anniversary, birthday
	ProductType string           `json:"productType,omitempty"` // product fields: only this type ("" any)
	OffsetDays  int              `json:"offsetDays"`            // send day = date + OffsetDays (-7: a week before)
	SegmentID   int64            `json:"segmentId"`             // the saved segment the rules came from
	Rules       segment.Node     `json:"rules"`
	Channels    []string         `json:"channels,omitempty"` // order of preference
	Content     campaign.Content `json:"content"`

	// Welcome steps (LINE only: a new friend is not yet a customer).
	Steps []Step `json:"steps,omitempty"`

	At              string `json:"at"`              // HH:MM local send time of date reminders
	TimeZone        string `json:"timeZone"`        // IANA name; "" Asia/Tokyo
	LatenessMinutes int    `json:"latenessMinutes"` // 0: DefaultLateness
}

// Draft is what the editor sends.
type Draft struct {
	Name string `json:"name"`
	Kind string `json:"kind"`
	Spec Spec   `json:"spec"`
}

// Rule is a stored rule.
type Rule struct {
	ID              int64  `json:"id"`
	Name            string `json:"name"`
	Kind            string `json:"kind"`
	Spec            Spec   `json:"spec"`
	Status          string `json:"status"`
	Version         int    `json:"version"`
	Author          string `json:"author"`
	ApprovedBy      string `json:"approvedBy"`
	ApprovedVersion int    `json:"approvedVersion"`
	ApprovedAt      int64  `json:"approvedAt"`
	CheckedThrough  string `json:"checkedThrough"`
	CreatedAt       int64  `json:"createdAt"`
	UpdatedAt       int64  `json:"updatedAt"`
}

// Approved reports whether the current version carries a valid approval.
func (r Rule) Approved() bool {
	return r.ApprovedBy != "" && r.ApprovedBy != r.Author && r.ApprovedVersion == r.Version
}

// Lateness is the rule's catch-up window.
func (r Rule) Lateness() time.Duration {
	if r.Spec.LatenessMinutes <= 0 {
		return DefaultLateness
	}
	return time.Duration(r.Spec.LatenessMinutes) * time.Minute
}

// Location is the rule's time zone.
func (r Rule) Location() *time.Location {
	loc, err := loadLocation(r.Spec.TimeZone)
	if err != nil {
		return time.FixedZone("JST", 9*3600)
	}
	return loc
}

func loadLocation(name string) (*time.Location, error) {
	if name == "" {
		name = DefaultTimeZone
	}
	loc, err := time.LoadLocation(name)
	if err != nil && name == DefaultTimeZone {
		return time.FixedZone("JST", 9*3600), nil
	}
	return loc, err
}

// Config holds the service's dependencies.
type Config struct {
	DB       *store.DB
	Segments *segment.Service
	Outbox   *outbox.Outbox     // nil: LINE occurrences wait (stay 'sending') until one is given
	Notifier *campaign.Notifier // nil: email and SMS are not sent (recorded failed)
	// Links tracks a reminder's LINE links per recipient (those its content
	// does not mark 「計測しない」); nil, or no relay: sent as written.
	Links  *clicks.Service
	Clock  func() time.Time
	Logger *slog.Logger
	// Failpoint is called at named points of a send (crash tests).
	Failpoint func(name string)
	// Triggers are other features' timed messages the scheduler runs on
	// each pass after the rules (booking reminders the day before). Each
	// keeps its own once-only keys, stored with the outbox's retry keys.
	Triggers []Trigger
}

// Trigger is a feature's timed messages, run by the scheduler.
type Trigger interface {
	// RunDue sends what is due now; sent counts the messages enqueued.
	RunDue(ctx context.Context) (sent int, err error)
}

// Failpoints.
const (
	FailClaimed   = "claimed"    // occurrences and retry keys committed, nothing sent
	FailLineSent  = "line-sent"  // a LINE send made, its outcome not recorded
	FailEmailSent = "email-sent" // an email/SMS sent, its outcome not recorded
)

// Service manages and runs rules.
type Service struct {
	db   *store.DB
	segs *segment.Service
	ob   *outbox.Outbox
	ntf  *campaign.Notifier
	lnk  *clicks.Service
	now  func() time.Time
	log  *slog.Logger
	fail func(string)
	trig []Trigger

	runMu sync.Mutex // one scheduler pass at a time
	stop  context.CancelFunc
	wg    sync.WaitGroup
	wake  chan struct{} // Wake: a pass now, between the ticks
}

// New returns a service.
func New(cfg Config) (*Service, error) {
	if cfg.DB == nil || cfg.Segments == nil {
		return nil, errors.New("automation: DB and segments are required")
	}
	s := &Service{db: cfg.DB, segs: cfg.Segments, ob: cfg.Outbox, ntf: cfg.Notifier, lnk: cfg.Links, now: cfg.Clock, log: cfg.Logger, fail: cfg.Failpoint, trig: cfg.Triggers, wake: make(chan struct{}, 1)}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.fail == nil {
		s.fail = func(string) {}
	}
	return s, nil
}

// Start runs the scheduler every interval until Close; the first pass (which
// resumes interrupted sends and catches up) runs at once.
func (s *Service) Start(interval time.Duration) {
	ctx, stop := context.WithCancel(context.Background())
	s.stop = stop
	s.wg.Go(func() {
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			if _, err := s.Tick(ctx); err != nil && ctx.Err() == nil {
				s.log.Warn("automation pass", "err", err)
			}
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			case <-s.wake:
			}
		}
	})
}

// Wake runs a scheduler pass now instead of at the next tick: the sandbox's
// clock was moved forward (internal/clock). A pass already asked for is
// not asked for twice.
func (s *Service) Wake() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Close stops the scheduler and waits for a running pass.
func (s *Service) Close() {
	if s.stop != nil {
		s.stop()
	}
	s.wg.Wait()
}

func target(id int64) string { return "automation:" + strconv.FormatInt(id, 10) }

var hhmm = regexp.MustCompile(`^([01][0-9]|2[0-3]):[0-5][0-9]$`)

// normalise checks a draft and fills its defaults. Every wrong field is
// reported with its path in the Draft JSON the editor sent (spec.steps.1.at),
// so the editor can mark all of them at once.
func (d *Draft) normalise() error {
	var l fielderr.List
	d.Name = strings.TrimSpace(d.Name)
	if d.Name == "" {
		l.Add("name", fielderr.Required)
	} else if len([]rune(d.Name)) > 100 {
		l.AddMax("name", fielderr.TooLong, 100)
	}
	sp := &d.Spec
	if _, err := loadLocation(sp.TimeZone); err != nil {
		l.Add("spec.timeZone", fielderr.Choose)
	}
	if sp.TimeZone == "" {
		sp.TimeZone = DefaultTimeZone
	}
	if sp.LatenessMinutes < 0 || time.Duration(sp.LatenessMinutes)*time.Minute > MaxLateness {
		l.Add("spec.latenessMinutes", fielderr.Format)
	}
	switch d.Kind {
	case KindDate:
		switch sp.Field {
		case FieldMaturity, FieldAnniversary, FieldBirthday:
		default:
			l.Add("spec.field", fielderr.Choose)
		}
		if sp.Field == FieldBirthday {
			sp.ProductType = ""
		}
		if sp.OffsetDays < -365 || sp.OffsetDays > 365 {
			l.Add("spec.offsetDays", fielderr.Format)
		}
		if !hhmm.MatchString(sp.At) {
			l.Add("spec.at", fielderr.Format)
		}
		channelsOK := len(sp.Channels) > 0
		seen := map[string]bool{}
		for _, ch := range sp.Channels {
			if ch != campaign.ChannelLine && ch != campaign.ChannelEmail && ch != campaign.ChannelSMS || seen[ch] {
				channelsOK = false
			}
			seen[ch] = true
		}
		if !channelsOK {
			l.Add("spec.channels", fielderr.Choose)
		} else if err := sp.Content.Validate(sp.Channels); err != nil && !l.Merge(fielderr.Under("spec.content", err)) {
			return err
		}
		if sp.Rules.Op != "" || sp.Rules.Cond != nil {
			if err := sp.Rules.Validate(); err != nil {
				// The rules come from the chosen saved segment, not typed here.
				if !l.Merge(fielderr.Under("spec.rules", err)) {
					return err
				}
			}
		}
		sp.Steps = nil
	case KindWelcome:
		if len(sp.Steps) == 0 {
			l.Add("spec.steps", fielderr.Required)
		} else if len(sp.Steps) > 10 {
			l.AddMax("spec.steps", fielderr.TooMany, 10)
		}
		for i, st := range sp.Steps {
			at := "spec.steps." + strconv.Itoa(i)
			if st.DelayDays < 0 || st.DelayDays > 90 || st.DelayHours < 0 || st.DelayHours > 24*90 {
				l.Add(at+".delayDays", fielderr.Format)
			}
			if st.At != "" && !hhmm.MatchString(st.At) {
				l.Add(at+".at", fielderr.Format)
			}
			if err := (campaign.Content{Line: st.Messages}).Validate([]string{campaign.ChannelLine}); err != nil {
				// Content names its LINE messages "line"; here they are "messages".
				if !l.Merge(underMessages(at, err)) {
					return fmt.Errorf("step %d: %w", i+1, err)
				}
				continue
			}
			// A new friend is not yet a customer: there is a LINE name to
			// greet, but no branch or staff member in charge.
			if (campaign.Content{Line: st.Messages}).LineUses("{支店}", "{担当者}") {
				l.Add(at+".messages", fielderr.Format)
			}
		}
		if l.Len() == 0 {
			sp.Field, sp.ProductType, sp.OffsetDays, sp.Channels = "", "", 0, []string{campaign.ChannelLine}
			sp.Rules, sp.SegmentID, sp.Content = segment.Node{}, 0, campaign.Content{}
		}
	default:
		l.Add("kind", fielderr.Choose)
	}
	return l.Err(ErrInvalid)
}

// underMessages puts a step's content errors ("line", "line.0.text") under
// the step's own JSON name for them ("spec.steps.0.messages.0.text").
func underMessages(step string, err error) error {
	var l fielderr.List
	for _, f := range fielderr.Fields(err) {
		path := step + ".messages" + strings.TrimPrefix(f.Field, "line")
		if f.Max > 0 {
			l.AddMax(path, f.Code, f.Max)
		} else {
			l.Add(path, f.Code)
		}
	}
	if l.Len() == 0 {
		return err
	}
	return l.Err(ErrInvalid)
}

const ruleColumns = `id, name, kind, spec, status, version, author, approved_by, approved_version, approved_at, checked_through, created_at, updated_at`

type scanner interface{ Scan(...any) error }

func scanRule(r scanner) (Rule, error) {
	var (
		x    Rule
		spec string
	)
	if err := r.Scan(&x.ID, &x.Name, &x.Kind, &spec, &x.Status, &x.Version, &x.Author, &x.ApprovedBy, &x.ApprovedVersion,
		&x.ApprovedAt, &x.CheckedThrough, &x.CreatedAt, &x.UpdatedAt); err != nil {
		return Rule{}, err
	}
	if err := json.Unmarshal([]byte(spec), &x.Spec); err != nil {
		return Rule{}, fmt.Errorf("automation %d: spec: %w", x.ID, err)
	}
	return x, nil
}

type queryRower interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func getRule(ctx context.Context, q queryRower, id int64) (Rule, error) {
	r, err := scanRule(q.QueryRowContext(ctx, `SELECT `+ruleColumns+` FROM automations WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Rule{}, ErrNotFound
	}
	return r, err
}

// Get returns a rule.
func (s *Service) Get(ctx context.Context, id int64) (Rule, error) {
	return getRule(ctx, s.db.Reader(), id)
}

// List returns every rule, newest first.
func (s *Service) List(ctx context.Context) ([]Rule, error) {
	return s.list(ctx, s.db.Reader(), `ORDER BY id DESC`)
}

func (s *Service) list(ctx context.Context, q interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
}, tail string, args ...any) ([]Rule, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+ruleColumns+` FROM automations `+tail, args...)
	if err != nil {
		return nil, fmt.Errorf("automation: list: %w", err)
	}
	defer rows.Close()
	out := []Rule{}
	for rows.Next() {
		r, err := scanRule(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

func specJSON(sp Spec) string {
	b, _ := json.Marshal(sp)
	return string(b)
}

func uniqueName(err error) error {
	if err != nil && store.IsUnique(err) {
		return fielderr.New(ErrInvalid, "name", fielderr.Taken)
	}
	return err
}

// Create stores a new draft rule.
func (s *Service) Create(ctx context.Context, actor string, d Draft) (Rule, error) {
	if err := d.normalise(); err != nil {
		return Rule{}, err
	}
	now := s.now().UnixMilli()
	var id int64
	err := s.db.Write(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `INSERT INTO automations (name, kind, spec, author, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING id`,
			d.Name, d.Kind, specJSON(d.Spec), actor, now, now).Scan(&id)
		if err != nil {
			return fmt.Errorf("automation: create: %w", err)
		}
		_, err = audit.Record(ctx, tx, audit.Entry{At: now, Actor: actor, Action: ActionCreate, Target: target(id),
			Detail: map[string]string{"kind": d.Kind}})
		return err
	})
	if err != nil {
		return Rule{}, uniqueName(err)
	}
	return s.Get(ctx, id)
}

// Update edits a rule at version. Any edit withdraws the approval, and an
// active rule is paused until it is approved and switched on again.
func (s *Service) Update(ctx context.Context, actor string, id int64, version int, d Draft) (Rule, error) {
	if err := d.normalise(); err != nil {
		return Rule{}, err
	}
	now := s.now().UnixMilli()
	err := s.db.Write(ctx, func(tx *sql.Tx) error {
		r, err := getRule(ctx, tx, id)
		if err != nil {
			return err
		}
		if r.Version != version {
			return ErrStale
		}
		if r.Kind != d.Kind {
			return fmt.Errorf("%w: the kind of a rule cannot change", ErrInvalid)
		}
		status := r.Status
		if status == StatusActive {
			status = StatusPaused
		}
		_, err = tx.ExecContext(ctx, `UPDATE automations SET name = ?, spec = ?, status = ?, version = version + 1,
			approved_by = '', approved_version = 0, approved_at = 0, updated_at = ? WHERE id = ?`,
			d.Name, specJSON(d.Spec), status, now, id)
		if err != nil {
			return fmt.Errorf("automation: update: %w", err)
		}
		_, err = audit.Record(ctx, tx, audit.Entry{At: now, Actor: actor, Action: ActionEdit, Target: target(id),
			Detail: map[string]string{"version": strconv.Itoa(version + 1)}})
		return err
	})
	if err != nil {
		return Rule{}, uniqueName(err)
	}
	return s.Get(ctx, id)
}

// Approve approves a rule's version; its author cannot.
func (s *Service) Approve(ctx context.Context, actor string, id int64, version int) (Rule, error) {
	now := s.now().UnixMilli()
	err := s.db.Write(ctx, func(tx *sql.Tx) error {
		r, err := getRule(ctx, tx, id)
		if err != nil {
			return err
		}
		if r.Version != version {
			return ErrStale
		}
		if r.Author == actor {
			return ErrOwnApproval
		}
		if _, err := tx.ExecContext(ctx, `UPDATE automations SET approved_by = ?, approved_version = ?, approved_at = ? WHERE id = ?`,
			actor, version, now, id); err != nil {
			return fmt.Errorf("automation: approve: %w", err)
		}
		_, err = audit.Record(ctx, tx, audit.Entry{At: now, Actor: actor, Action: ActionApprove, Target: target(id),
			Detail: map[string]string{"version": strconv.Itoa(version)}})
		return err
	})
	if err != nil {
		return Rule{}, err
	}
	return s.Get(ctx, id)
}

// Activate switches an approved rule on (or resumes a paused one). Date
// occurrences whose send time passed before this moment are not sent: a
// rule starts from its next send time.
func (s *Service) Activate(ctx context.Context, actor string, id int64) (Rule, error) {
	now := s.now()
	err := s.db.Write(ctx, func(tx *sql.Tx) error {
		r, err := getRule(ctx, tx, id)
		if err != nil {
			return err
		}
		if r.Status == StatusActive {
			return ErrState
		}
		if !r.Approved() {
			return ErrNotApproved
		}
		checked := ""
		if r.Kind == KindDate {
			loc := r.Location()
			today := civil(now.In(loc))
			checked = today.add(-1).String()
			if !r.sendTime(today, loc).After(now) {
				checked = today.String()
			}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE automations SET status = 'active', checked_through = ?, updated_at = ? WHERE id = ?`,
			checked, now.UnixMilli(), id); err != nil {
			return fmt.Errorf("automation: activate: %w", err)
		}
		_, err = audit.Record(ctx, tx, audit.Entry{At: now.UnixMilli(), Actor: actor, Action: ActionActivate, Target: target(id),
			Detail: map[string]string{"version": strconv.Itoa(r.Version)}})
		return err
	})
	if err != nil {
		return Rule{}, err
	}
	return s.Get(ctx, id)
}

// Pause stops an active rule; its approval stays.
func (s *Service) Pause(ctx context.Context, actor string, id int64) (Rule, error) {
	now := s.now().UnixMilli()
	err := s.db.Write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE automations SET status = 'paused', updated_at = ? WHERE id = ? AND status = 'active'`, now, id)
		if err != nil {
			return fmt.Errorf("automation: pause: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			if _, err := getRule(ctx, tx, id); err != nil {
				return err
			}
			return ErrState
		}
		_, err = audit.Record(ctx, tx, audit.Entry{At: now, Actor: actor, Action: ActionPause, Target: target(id)})
		return err
	})
	if err != nil {
		return Rule{}, err
	}
	return s.Get(ctx, id)
}

// Delete removes a rule that is not active, with its occurrence records.
func (s *Service) Delete(ctx context.Context, actor string, id int64) error {
	now := s.now().UnixMilli()
	return s.db.Write(ctx, func(tx *sql.Tx) error {
		r, err := getRule(ctx, tx, id)
		if err != nil {
			return err
		}
		if r.Status == StatusActive {
			return ErrState
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM automations WHERE id = ?`, id); err != nil {
			return fmt.Errorf("automation: delete: %w", err)
		}
		_, err = audit.Record(ctx, tx, audit.Entry{At: now, Actor: actor, Action: ActionDelete, Target: target(id)})
		return err
	})
}

// renderLine renders a rule's LINE messages for a person.
func renderLine(msgs []campaign.LineMessage, p campaign.Person) ([]line.Message, []byte, error) {
	m, err := campaign.Content{Line: msgs}.RenderLine(p)
	if err != nil {
		return nil, nil, err
	}
	blob, err := line.MarshalMessages(m)
	return m, blob, err
}
