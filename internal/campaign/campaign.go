// Package campaign sends a message to a segment of customers on LINE, with
// email and SMS as fallbacks, after a second staff member approved it, and
// exactly once per customer even across crashes.
//
// The life of a campaign: draft (any edit bumps its version) → approved (by
// someone other than the author, for that version; an edit resets it) →
// scheduled (optional, with a time zone) → sending → done; cancel is
// possible before sending starts, pause and resume while sending.
//
// Sending starts with ONE transaction that freezes the customers the
// segment matched and writes the first of them: each customer's row with the
// channel chosen for them (or the reason they are skipped; consent is
// enforced here whatever the segment says), the LINE requests (recipients
// with identical personalised content grouped into multicasts of at most
// 500) each with its X-Line-Retry-Key, and an idempotency key per
// email/SMS. The rest are expanded from that snapshot in chunks while the
// first requests are in flight (expand.go); no request is sent before the
// commit that stores it. See run.go for how each channel then stays
// exactly-once.
package campaign

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"tsunagu/internal/audit"
	"tsunagu/internal/clicks"
	"tsunagu/internal/fielderr"
	"tsunagu/internal/line"
	"tsunagu/internal/mail"
	"tsunagu/internal/outbox"
	"tsunagu/internal/segment"
	"tsunagu/internal/sms"
	"tsunagu/internal/store"
)

// Channels.
const (
	ChannelLine  = "line"
	ChannelEmail = "email"
	ChannelSMS   = "sms"
)

// Statuses.
const (
	StatusDraft     = "draft"
	StatusApproved  = "approved"
	StatusScheduled = "scheduled"
	StatusSending   = "sending"
	StatusPaused    = "paused"
	StatusDone      = "done"
	StatusCancelled = "cancelled"
)

// Audit actions.
const (
	ActionCreate   = "campaign.create"
	ActionEdit     = "campaign.edit"
	ActionApprove  = "campaign.approve"
	ActionSchedule = "campaign.schedule"
	ActionCancel   = "campaign.cancel"
	ActionPause    = "campaign.pause"
	ActionResume   = "campaign.resume"
	ActionSend     = "campaign.send"
	ActionFinish   = "campaign.finish"
	ActionExport   = "campaign.export"
	ActionReturn   = "campaign.return"  // 差し戻し: sent back to its author with a comment
	ActionRequest  = "campaign.request" // the author asks for approval again
)

// Errors a caller can act on.
var (
	ErrNotFound    = errors.New("campaign: not found")
	ErrState       = errors.New("campaign: not possible in its current state")
	ErrOwnApproval = errors.New("campaign: the author cannot approve their own campaign")
	ErrNotApproved = errors.New("campaign: not approved (or edited since its approval)")
	ErrStale       = errors.New("campaign: it was changed since you opened it")
	ErrOffline     = errors.New("campaign: no LINE connection")
	ErrNoMailer    = errors.New("campaign: email is not set up")
	ErrNoSMS       = errors.New("campaign: SMS is not set up")
	ErrQuota       = errors.New("campaign: not enough LINE monthly quota")
	ErrPast        = errors.New("campaign: the scheduled time has passed")
	ErrReturned    = errors.New("campaign: sent back to its author; it waits for their changes and new request")
	ErrComment     = errors.New("campaign: sending a campaign back needs a comment (what to change)")
)

// EventChanged is the UI event after any change of a campaign (payload
// ChangedEvent): lists, the approval badge and open details refresh.
const EventChanged = "campaigns:changed"

// ChangedEvent names the campaign that changed.
type ChangedEvent struct {
	CampaignID int64 `json:"campaignId"`
}

// QuotaError says by how much a campaign does not fit this month's quota.
type QuotaError struct {
	Need, Left, Limit int64
}

func (e *QuotaError) Error() string {
	return fmt.Sprintf("%v: need %d messages, %d left of %d", ErrQuota, e.Need, e.Left, e.Limit)
}

func (e *QuotaError) Unwrap() error { return ErrQuota }

// Draft is what the editor sends.
type Draft struct {
	Name      string       `json:"name"`
	SegmentID int64        `json:"segmentId"` // the saved segment the rules came from (0: none)
	Rules     segment.Node `json:"rules"`
	Content   Content      `json:"content"`
	Channels  []string     `json:"channels"` // order of preference, e.g. ["line","email","sms"]
}

// Campaign is a stored campaign.
type Campaign struct {
	ID              int64        `json:"id"`
	Name            string       `json:"name"`
	SegmentID       int64        `json:"segmentId"`
	Rules           segment.Node `json:"rules"`
	Content         Content      `json:"content"`
	Channels        []string     `json:"channels"`
	Status          string       `json:"status"`
	Version         int          `json:"version"`
	Author          string       `json:"author"`
	ApprovedBy      string       `json:"approvedBy"`
	ApprovedVersion int          `json:"approvedVersion"`
	ApprovedAt      int64        `json:"approvedAt"`
	ScheduledAt     int64        `json:"scheduledAt"`
	TimeZone        string       `json:"timeZone"`
	StartedAt       int64        `json:"startedAt"`
	FinishedAt      int64        `json:"finishedAt"`
	Error           string       `json:"error"`
	CreatedAt       int64        `json:"createdAt"`
	UpdatedAt       int64        `json:"updatedAt"`
	// 差し戻し: set while the campaign is back with its author (a draft
	// that does not wait for approval); cleared by RequestApproval.
	ReturnedBy    string `json:"returnedBy"`
	ReturnComment string `json:"returnComment"`
	ReturnedAt    int64  `json:"returnedAt"`
}

// WaitingForApproval reports whether the campaign waits for an approver.
func (c Campaign) WaitingForApproval() bool { return c.Status == StatusDraft && c.ReturnedAt == 0 }

// Approved reports whether the current version carries a valid approval.
func (c Campaign) Approved() bool {
	return c.ApprovedBy != "" && c.ApprovedBy != c.Author && c.ApprovedVersion == c.Version
}

// LineQuota is the part of the LINE client the quota check needs.
type LineQuota interface {
	Quota(ctx context.Context) (line.Quota, error)
	QuotaConsumption(ctx context.Context) (int64, error)
}

// Mailer sends one email (mail.Client).
type Mailer interface {
	Send(ctx context.Context, m mail.Message) error
	From() string
}

// Config holds a service's dependencies.
type Config struct {
	DB       *store.DB
	Segments *segment.Service
	// Line sends LINE pushes and multicasts (line.Client); nil: LINE is
	// offline and a campaign cannot start.
	Line outbox.Sender
	// Quota checks the monthly quota before sending (line.Client); nil
	// skips the check.
	Quota LineQuota
	// Mailer and SMS return the current email/SMS senders (settings may
	// change while the app runs); nil or an error wrapping ErrNoMailer /
	// ErrNoSMS means the channel is not set up.
	Mailer func(ctx context.Context) (Mailer, error)
	SMS    func(ctx context.Context) (sms.Sender, error)
	Clock  func() time.Time
	// Links tracks the LINE messages' links per recipient through the
	// relay (package clicks); nil: links are sent as written.
	Links *clicks.Service
	// Workers is how many LINE requests are in flight (0: outbox.DefaultWorkers).
	Workers int
	// Failpoint, if set, is called at named points of a send (tests kill
	// the process there); see the Fail* constants.
	Failpoint func(name string)
	Logger    *slog.Logger
}

// Failpoints.
const (
	FailMaterialised   = "materialised"     // recipients frozen, the first chunk's rows and keys committed, nothing sent
	FailExpanding      = "expanding"        // a chunk of recipients and its requests committed, more to expand (some requests may be in flight)
	FailLineSent       = "line-sent"        // a LINE request answered, its outcome not stored
	FailBetweenChannel = "between-channels" // one channel finished, the next not started
	FailEmailAccepted  = "email-accepted"   // the SMTP server accepted a message, its row not updated
	FailSMSAccepted    = "sms-accepted"     // the SMS provider accepted a message, its row not updated
)

// Service manages campaigns.
type Service struct {
	cfg  Config
	db   *store.DB
	segs *segment.Service
	now  func() time.Time
	log  *slog.Logger

	// Expansion chunk sizes and recipients per LINE multicast (expand.go);
	// tests make them small.
	firstChunk, maxChunk, perRequest int

	mu      sync.Mutex
	running map[int64]*run // campaigns being sent by this process
	// campaigns whose copies are being written into the threads (threads.go)
	threading map[int64]bool
	bgCtx     context.Context
	bgStop    context.CancelFunc
	bg        sync.WaitGroup
}

// New returns a service.
func New(cfg Config) (*Service, error) {
	if cfg.DB == nil || cfg.Segments == nil {
		return nil, errors.New("campaign: DB and segments are required")
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Workers <= 0 {
		cfg.Workers = outbox.DefaultWorkers
	}
	ctx, stop := context.WithCancel(context.Background())
	return &Service{cfg: cfg, db: cfg.DB, segs: cfg.Segments, now: cfg.Clock, log: cfg.Logger,
		firstChunk: defaultFirstChunk, maxChunk: defaultMaxChunk, perRequest: line.MaxMulticastRecipients, running: map[int64]*run{}, threading: map[int64]bool{}, bgCtx: ctx, bgStop: stop}, nil
}

// Close stops background sends (they resume at the next start) and waits.
func (s *Service) Close() {
	s.bgStop()
	s.bg.Wait()
}

func (s *Service) fail(name string) {
	if s.cfg.Failpoint != nil {
		s.cfg.Failpoint(name)
	}
}

func target(id int64) string { return "campaign:" + strconv.FormatInt(id, 10) }

// --- reading ---

const campaignColumns = `id, name, coalesce(segment_id, 0), rules, content, channels, status, version, author, approved_by,
	approved_version, coalesce(approved_at, 0), coalesce(scheduled_at, 0), time_zone, coalesce(started_at, 0),
	coalesce(finished_at, 0), error, created_at, updated_at, returned_by, return_comment, coalesce(returned_at, 0)`

type scanner interface{ Scan(...any) error }

func scanCampaign(r scanner) (Campaign, error) {
	var (
		c                        Campaign
		rules, content, channels string
	)
	if err := r.Scan(&c.ID, &c.Name, &c.SegmentID, &rules, &content, &channels, &c.Status, &c.Version, &c.Author, &c.ApprovedBy,
		&c.ApprovedVersion, &c.ApprovedAt, &c.ScheduledAt, &c.TimeZone, &c.StartedAt, &c.FinishedAt, &c.Error, &c.CreatedAt, &c.UpdatedAt,
		&c.ReturnedBy, &c.ReturnComment, &c.ReturnedAt); err != nil {
		return Campaign{}, err
	}
	if err := json.Unmarshal([]byte(rules), &c.Rules); err != nil {
		return Campaign{}, fmt.Errorf("campaign %d: rules: %w", c.ID, err)
	}
	if err := json.Unmarshal([]byte(content), &c.Content); err != nil {
		return Campaign{}, fmt.Errorf("campaign %d: content: %w", c.ID, err)
	}
	if err := json.Unmarshal([]byte(channels), &c.Channels); err != nil {
		return Campaign{}, fmt.Errorf("campaign %d: channels: %w", c.ID, err)
	}
	return c, nil
}

type queryRower interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func getCampaign(ctx context.Context, q queryRower, id int64) (Campaign, error) {
	c, err := scanCampaign(q.QueryRowContext(ctx, `SELECT `+campaignColumns+` FROM campaigns WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Campaign{}, fmt.Errorf("campaign %d: %w", id, ErrNotFound)
	}
	return c, err
}

// Get returns one campaign.
func (s *Service) Get(ctx context.Context, id int64) (Campaign, error) {
	return getCampaign(ctx, s.db.Reader(), id)
}

// List returns every campaign, newest first.
func (s *Service) List(ctx context.Context) ([]Campaign, error) {
	rows, err := s.db.Reader().QueryContext(ctx, `SELECT `+campaignColumns+` FROM campaigns ORDER BY id DESC`)
	if err != nil {
		return nil, fmt.Errorf("campaign: list: %w", err)
	}
	defer rows.Close()
	out := []Campaign{}
	for rows.Next() {
		c, err := scanCampaign(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// --- editing and approval ---

func (d *Draft) normalise() error {
	d.Name = strings.TrimSpace(d.Name)
	if d.Name == "" {
		return fielderr.New(ErrInvalid, "name", fielderr.Required)
	}
	if len([]rune(d.Name)) > 100 {
		return fielderr.NewMax(ErrInvalid, "name", fielderr.TooLong, 100)
	}
	if len(d.Channels) == 0 {
		return fielderr.New(ErrInvalid, "channels", fielderr.Choose)
	}
	seen := map[string]bool{}
	for _, ch := range d.Channels {
		if ch != ChannelLine && ch != ChannelEmail && ch != ChannelSMS || seen[ch] {
			return fmt.Errorf("%w: channels %v", ErrInvalid, d.Channels)
		}
		seen[ch] = true
	}
	if d.Rules.Op == "" && d.Rules.Cond == nil && len(d.Rules.Children) == 0 && !d.Rules.Not {
		d.Rules = segment.Node{Op: "and"} // nothing chosen: every customer
	}
	if err := d.Rules.Validate(); err != nil {
		return fielderr.Under("rules", err)
	}
	return fielderr.Under("content", d.Content.Validate(d.Channels))
}

func (s *Service) segmentRef(ctx context.Context, tx *sql.Tx, id int64) (any, error) {
	if id == 0 {
		return nil, nil
	}
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM segments WHERE id = ?`, id).Scan(&n); err != nil {
		return nil, err
	}
	if n == 0 {
		return nil, fmt.Errorf("segment %d: %w", id, segment.ErrNotFound)
	}
	return id, nil
}

// Create stores a new draft.
func (s *Service) Create(ctx context.Context, actor string, d Draft) (Campaign, error) {
	if err := d.normalise(); err != nil {
		return Campaign{}, err
	}
	if _, err := s.segs.Compiler().Compile(d.Rules); err != nil {
		return Campaign{}, err
	}
	now := s.now().UnixMilli()
	var id int64
	err := s.db.Write(ctx, func(tx *sql.Tx) error {
		seg, err := s.segmentRef(ctx, tx, d.SegmentID)
		if err != nil {
			return err
		}
		content, _ := json.Marshal(d.Content)
		channels, _ := json.Marshal(d.Channels)
		res, err := tx.ExecContext(ctx, `INSERT INTO campaigns (name, segment_id, rules, content, channels, author, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, d.Name, seg, d.Rules.JSON(), string(content), string(channels), actor, now, now)
		if err != nil {
			return fmt.Errorf("campaign: create: %w", err)
		}
		id, _ = res.LastInsertId()
		_, err = audit.Record(ctx, tx, audit.Entry{At: now, Actor: actor, Action: ActionCreate, Target: target(id)})
		return err
	})
	if err != nil {
		return Campaign{}, err
	}
	return s.Get(ctx, id)
}

// Update replaces a draft's (or an approved or scheduled campaign's)
// content. version must be the version the editor loaded. Any edit resets
// the approval and a schedule: the campaign is a draft again.
func (s *Service) Update(ctx context.Context, actor string, id int64, version int, d Draft) (Campaign, error) {
	if err := d.normalise(); err != nil {
		return Campaign{}, err
	}
	if _, err := s.segs.Compiler().Compile(d.Rules); err != nil {
		return Campaign{}, err
	}
	now := s.now().UnixMilli()
	err := s.db.Write(ctx, func(tx *sql.Tx) error {
		c, err := getCampaign(ctx, tx, id)
		if err != nil {
			return err
		}
		switch c.Status {
		case StatusDraft, StatusApproved, StatusScheduled:
		default:
			return fmt.Errorf("edit a %s campaign: %w", c.Status, ErrState)
		}
		if c.Version != version {
			return ErrStale
		}
		seg, err := s.segmentRef(ctx, tx, d.SegmentID)
		if err != nil {
			return err
		}
		content, _ := json.Marshal(d.Content)
		channels, _ := json.Marshal(d.Channels)
		if _, err := tx.ExecContext(ctx, `UPDATE campaigns SET name = ?, segment_id = ?, rules = ?, content = ?, channels = ?,
			version = version + 1, status = 'draft', approved_by = '', approved_version = 0, approved_at = NULL, scheduled_at = NULL,
			updated_at = ? WHERE id = ?`, d.Name, seg, d.Rules.JSON(), string(content), string(channels), now, id); err != nil {
			return fmt.Errorf("campaign: edit: %w", err)
		}
		detail := map[string]string{"version": strconv.Itoa(c.Version + 1)}
		if c.Status != StatusDraft {
			detail["approvalReset"] = "true"
		}
		_, err = audit.Record(ctx, tx, audit.Entry{At: now, Actor: actor, Action: ActionEdit, Target: target(id), Detail: detail})
		return err
	})
	if err != nil {
		return Campaign{}, err
	}
	return s.Get(ctx, id)
}

// Approve approves version of campaign id. The approver must not be its
// author, and the version must be the current one (what the approver saw).
func (s *Service) Approve(ctx context.Context, actor string, id int64, version int) (Campaign, error) {
	now := s.now().UnixMilli()
	err := s.db.Write(ctx, func(tx *sql.Tx) error {
		c, err := getCampaign(ctx, tx, id)
		if err != nil {
			return err
		}
		if c.Status != StatusDraft {
			return fmt.Errorf("approve a %s campaign: %w", c.Status, ErrState)
		}
		if c.Version != version {
			return ErrStale
		}
		if actor == c.Author {
			return ErrOwnApproval
		}
		if c.ReturnedAt != 0 {
			return ErrReturned
		}
		// Content is checked again: it may have been stored by an older
		// version with looser rules.
		if err := c.Content.Validate(c.Channels); err != nil {
			return err
		}
		// Every placeholder resolves for every recipient (or a rule says
		// what they get): an approver never approves a hole.
		if err := s.checkPlaceholders(ctx, tx, c.Rules, c.Channels, c.Content); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE campaigns SET status = 'approved', approved_by = ?, approved_version = version,
			approved_at = ?, updated_at = ? WHERE id = ?`, actor, now, now, id); err != nil {
			return fmt.Errorf("campaign: approve: %w", err)
		}
		_, err = audit.Record(ctx, tx, audit.Entry{At: now, Actor: actor, Action: ActionApprove, Target: target(id),
			Detail: map[string]string{"version": strconv.Itoa(c.Version)}})
		return err
	})
	if err != nil {
		return Campaign{}, err
	}
	return s.Get(ctx, id)
}

// maxComment bounds a 差し戻し comment.
const maxComment = 1000

// Return sends a draft back to its author with comment (差し戻し): it no
// longer waits for approval until the author requests it again. version is
// what the approver looked at; the author cannot send back their own.
func (s *Service) Return(ctx context.Context, actor string, id int64, version int, comment string) (Campaign, error) {
	comment = strings.TrimSpace(comment)
	if comment == "" || utf8.RuneCountInString(comment) > maxComment {
		return Campaign{}, fmt.Errorf("comment of 1 to %d characters: %w", maxComment, ErrComment)
	}
	now := s.now().UnixMilli()
	err := s.db.Write(ctx, func(tx *sql.Tx) error {
		c, err := getCampaign(ctx, tx, id)
		if err != nil {
			return err
		}
		if c.Status != StatusDraft || c.ReturnedAt != 0 {
			return fmt.Errorf("send back a %s campaign: %w", c.Status, ErrState)
		}
		if c.Version != version {
			return ErrStale
		}
		if actor == c.Author {
			return ErrOwnApproval
		}
		if _, err := tx.ExecContext(ctx, `UPDATE campaigns SET returned_by = ?, return_comment = ?, returned_at = ?, updated_at = ? WHERE id = ?`,
			actor, comment, now, now, id); err != nil {
			return fmt.Errorf("campaign: send back: %w", err)
		}
		_, err = audit.Record(ctx, tx, audit.Entry{At: now, Actor: actor, Action: ActionReturn, Target: target(id),
			Detail: map[string]string{"version": strconv.Itoa(c.Version), "reason": comment}})
		return err
	})
	if err != nil {
		return Campaign{}, err
	}
	return s.Get(ctx, id)
}

// RequestApproval puts a campaign that was sent back in front of the
// approvers again (version: what the author saved last). Its placeholders
// are checked first: a request that no approver could approve is refused.
func (s *Service) RequestApproval(ctx context.Context, actor string, id int64, version int) (Campaign, error) {
	now := s.now().UnixMilli()
	err := s.db.Write(ctx, func(tx *sql.Tx) error {
		c, err := getCampaign(ctx, tx, id)
		if err != nil {
			return err
		}
		if c.Status != StatusDraft || c.ReturnedAt == 0 {
			return fmt.Errorf("request approval of a %s campaign: %w", c.Status, ErrState)
		}
		if c.Version != version {
			return ErrStale
		}
		if err := c.Content.Validate(c.Channels); err != nil {
			return err
		}
		if err := s.checkPlaceholders(ctx, tx, c.Rules, c.Channels, c.Content); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE campaigns SET returned_by = '', return_comment = '', returned_at = NULL, updated_at = ? WHERE id = ?`,
			now, id); err != nil {
			return fmt.Errorf("campaign: request approval: %w", err)
		}
		_, err = audit.Record(ctx, tx, audit.Entry{At: now, Actor: actor, Action: ActionRequest, Target: target(id),
			Detail: map[string]string{"version": strconv.Itoa(c.Version)}})
		return err
	})
	if err != nil {
		return Campaign{}, err
	}
	return s.Get(ctx, id)
}

// WaitingFor counts the campaigns waiting for approval that actor may
// approve (not their own).
func (s *Service) WaitingFor(ctx context.Context, actor string) (int, error) {
	var n int
	err := s.db.Reader().QueryRowContext(ctx, `SELECT count(*) FROM campaigns WHERE status = 'draft' AND returned_at IS NULL AND author != ?`, actor).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("campaign: waiting for approval: %w", err)
	}
	return n, nil
}

// DefaultTimeZone is the schedule's zone when none is given.
const DefaultTimeZone = "Asia/Tokyo"

// Schedule sets an approved campaign to start at local (wall time
// "2006-01-02T15:04" in zone tz, "" for DefaultTimeZone).
func (s *Service) Schedule(ctx context.Context, actor string, id int64, local, tz string) (Campaign, error) {
	if tz == "" {
		tz = DefaultTimeZone
	}
	loc, err := time.LoadLocation(tz)
	if err != nil {
		return Campaign{}, fmt.Errorf("%w: time zone %q", ErrInvalid, tz)
	}
	at, err := time.ParseInLocation("2006-01-02T15:04", local, loc)
	if err != nil {
		return Campaign{}, fmt.Errorf("%w: time %q", ErrInvalid, local)
	}
	if !at.After(s.now()) {
		return Campaign{}, ErrPast
	}
	now := s.now().UnixMilli()
	err = s.db.Write(ctx, func(tx *sql.Tx) error {
		c, err := getCampaign(ctx, tx, id)
		if err != nil {
			return err
		}
		if c.Status != StatusApproved && c.Status != StatusScheduled {
			if c.Status == StatusDraft {
				return ErrNotApproved
			}
			return fmt.Errorf("schedule a %s campaign: %w", c.Status, ErrState)
		}
		if !c.Approved() {
			return ErrNotApproved
		}
		if _, err := tx.ExecContext(ctx, `UPDATE campaigns SET status = 'scheduled', scheduled_at = ?, time_zone = ?, updated_at = ? WHERE id = ?`,
			at.UnixMilli(), tz, now, id); err != nil {
			return fmt.Errorf("campaign: schedule: %w", err)
		}
		_, err = audit.Record(ctx, tx, audit.Entry{At: now, Actor: actor, Action: ActionSchedule, Target: target(id),
			Detail: map[string]string{"at": at.Format(time.RFC3339), "timeZone": tz}})
		return err
	})
	if err != nil {
		return Campaign{}, err
	}
	return s.Get(ctx, id)
}

// Cancel cancels a campaign that has not started sending.
func (s *Service) Cancel(ctx context.Context, actor string, id int64) (Campaign, error) {
	return s.transition(ctx, actor, id, ActionCancel, StatusCancelled, StatusDraft, StatusApproved, StatusScheduled)
}

// Pause stops a sending campaign after the requests in flight; nothing more
// goes out until Resume.
func (s *Service) Pause(ctx context.Context, actor string, id int64) (Campaign, error) {
	c, err := s.transition(ctx, actor, id, ActionPause, StatusPaused, StatusSending)
	if err != nil {
		return c, err
	}
	s.mu.Lock()
	if r := s.running[id]; r != nil {
		r.stopOnce.Do(func() { close(r.stop) })
	}
	s.mu.Unlock()
	return c, nil
}

// Resume continues a paused campaign in the background.
func (s *Service) Resume(ctx context.Context, actor string, id int64) (Campaign, error) {
	c, err := s.transition(ctx, actor, id, ActionResume, StatusSending, StatusPaused)
	if err != nil {
		return c, err
	}
	s.launch(id)
	return c, nil
}

func (s *Service) transition(ctx context.Context, actor string, id int64, action, to string, from ...string) (Campaign, error) {
	now := s.now().UnixMilli()
	err := s.db.Write(ctx, func(tx *sql.Tx) error {
		c, err := getCampaign(ctx, tx, id)
		if err != nil {
			return err
		}
		ok := false
		for _, f := range from {
			ok = ok || c.Status == f
		}
		if !ok {
			return fmt.Errorf("%s a %s campaign: %w", strings.TrimPrefix(action, "campaign."), c.Status, ErrState)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE campaigns SET status = ?, updated_at = ? WHERE id = ?`, to, now, id); err != nil {
			return fmt.Errorf("campaign: %s: %w", action, err)
		}
		_, err = audit.Record(ctx, tx, audit.Entry{At: now, Actor: actor, Action: action, Target: target(id)})
		return err
	})
	if err != nil {
		return Campaign{}, err
	}
	return s.Get(ctx, id)
}

// started reports whether a campaign's send has begun (or ended).
func started(status string) bool {
	return status == StatusSending || status == StatusPaused || status == StatusDone
}

// SendNow starts sending an approved campaign in the background, after the
// quota check. It returns once the recipients are materialised (or the
// campaign was refused).
func (s *Service) SendNow(ctx context.Context, actor string, id int64) (Campaign, error) {
	c, err := s.Get(ctx, id)
	if err != nil {
		return Campaign{}, err
	}
	// Pressed again (a second click, a second seat): it already goes out,
	// which is what was asked; not an error.
	if started(c.Status) {
		return c, nil
	}
	if c.Status != StatusApproved && c.Status != StatusScheduled {
		if c.Status == StatusDraft {
			return Campaign{}, ErrNotApproved
		}
		return Campaign{}, fmt.Errorf("send a %s campaign: %w", c.Status, ErrState)
	}
	if err := s.materialise(ctx, actor, id); err != nil {
		// Another press won the race inside the transaction.
		if cur, gerr := s.Get(ctx, id); errors.Is(err, ErrState) && gerr == nil && started(cur.Status) {
			return cur, nil
		}
		return Campaign{}, err
	}
	s.launch(id)
	return s.Get(ctx, id)
}
