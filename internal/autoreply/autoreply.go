// Package autoreply answers customers by itself: keyword auto-replies set
// by an administrator, and an away reply outside business hours. It is an
// inbox.Hook: it runs inside the webhook's transaction and asks the inbox to
// send its replies, which the inbox stores (with their retry keys and audit
// entries) in that same transaction, so a redelivered webhook never answers
// twice.
package autoreply

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"tsunagu/internal/audit"
	"tsunagu/internal/fielderr"
	"tsunagu/internal/inbox"
	"tsunagu/internal/store"
	"tsunagu/internal/textfold"
)

// SentBy is what the thread shows as the sender of an automatic reply.
const SentBy = "自動応答"

// Actor is the audit actor of automatic replies.
const Actor = "system:autoreply"

// Audit actions of configuration changes.
const (
	ActionRuleSave   = "autoreply.rule_save"
	ActionRuleDelete = "autoreply.rule_delete"
	ActionSettings   = "autoreply.settings"
)

// VarNextOpening is replaced by when business next opens (e.g. 11月26日(木) 9:00).
const VarNextOpening = "{次の営業開始}"

// Match types of a keyword rule.
const (
	MatchExact    = "exact"    // the whole message is the keyword
	MatchContains = "contains" // the message contains the keyword
)

// Errors for invalid configuration.
var (
	ErrInvalid  = errors.New("autoreply: invalid rule or settings")
	ErrNotFound = errors.New("autoreply: rule not found")
)

// Config holds the service's dependencies.
type Config struct {
	DB    *store.DB
	Clock func() time.Time // nil: time.Now
}

// Service keeps the rules and business hours and answers as a hook.
type Service struct {
	db  *store.DB
	now func() time.Time
}

// New returns the service.
func New(cfg Config) (*Service, error) {
	if cfg.DB == nil {
		return nil, errors.New("autoreply: DB is required")
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	return &Service{db: cfg.DB, now: cfg.Clock}, nil
}

// Rule is a keyword auto-reply.
type Rule struct {
	ID        int64  `json:"id"`
	Keyword   string `json:"keyword"`
	Match     string `json:"match"` // MatchExact or MatchContains
	Reply     string `json:"reply"` // may use {氏名}
	Priority  int    `json:"priority"`
	Enabled   bool   `json:"enabled"`
	UpdatedAt int64  `json:"updatedAt"`
}

// Matches reports whether a customer's text triggers the rule. Both sides
// are compared by the one search key (textfold.Fold: width, kana, 異体字,
// case, spaces), so "ＡＴＭ" matches "atm" and 「よやく」 matches 「ヨヤク」.
func (r Rule) Matches(text string) bool {
	k, t := textfold.Fold(r.Keyword), textfold.Fold(text)
	if k == "" {
		return false
	}
	if r.Match == MatchExact {
		return t == k
	}
	return strings.Contains(t, k)
}

// validate names every wrong field of the rule (fielderr), so the rule
// form marks them all at once.
func (r Rule) validate() error {
	var l fielderr.List
	switch k := len([]rune(r.Keyword)); {
	case strings.TrimSpace(r.Keyword) == "":
		l.Add("keyword", fielderr.Required)
	case k > 100:
		l.AddMax("keyword", fielderr.TooLong, 100)
	}
	if r.Match != MatchExact && r.Match != MatchContains {
		l.Add("match", fielderr.Choose)
	}
	switch n := len([]rune(r.Reply)); {
	case strings.TrimSpace(r.Reply) == "":
		l.Add("reply", fielderr.Required)
	case n > 5000:
		l.AddMax("reply", fielderr.TooLong, 5000)
	}
	return l.Err(ErrInvalid)
}

// Rules lists the rules in the order they are tried: priority (highest
// first), then the oldest.
func (s *Service) Rules(ctx context.Context) ([]Rule, error) {
	return rules(ctx, s.db.Reader(), false)
}

type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func rules(ctx context.Context, q querier, enabledOnly bool) ([]Rule, error) {
	query := `SELECT id, keyword, match_type, reply, priority, enabled, updated_at FROM autoreply_rules`
	if enabledOnly {
		query += ` WHERE enabled = 1`
	}
	rows, err := q.QueryContext(ctx, query+` ORDER BY priority DESC, id`)
	if err != nil {
		return nil, fmt.Errorf("auto-reply rules: %w", err)
	}
	defer rows.Close()
	out := []Rule{}
	for rows.Next() {
		var r Rule
		if err := rows.Scan(&r.ID, &r.Keyword, &r.Match, &r.Reply, &r.Priority, &r.Enabled, &r.UpdatedAt); err != nil {
			return nil, fmt.Errorf("auto-reply rules: %w", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// SaveRule creates (ID 0) or updates a rule; audited by actor.
func (s *Service) SaveRule(ctx context.Context, actor string, r Rule) (Rule, error) {
	r.Keyword, r.Reply = strings.TrimSpace(r.Keyword), strings.TrimSpace(r.Reply)
	if err := r.validate(); err != nil {
		return Rule{}, err
	}
	r.UpdatedAt = s.now().UnixMilli()
	err := s.db.Write(ctx, func(tx *sql.Tx) error {
		if r.ID == 0 {
			res, err := tx.ExecContext(ctx, `
				INSERT INTO autoreply_rules (keyword, match_type, reply, priority, enabled, created_at, updated_at)
				VALUES (?, ?, ?, ?, ?, ?, ?)`, r.Keyword, r.Match, r.Reply, r.Priority, r.Enabled, r.UpdatedAt, r.UpdatedAt)
			if err != nil {
				return err
			}
			if r.ID, err = res.LastInsertId(); err != nil {
				return err
			}
		} else {
			res, err := tx.ExecContext(ctx, `
				UPDATE autoreply_rules SET keyword = ?, match_type = ?, reply = ?, priority = ?, enabled = ?, updated_at = ? WHERE id = ?`,
				r.Keyword, r.Match, r.Reply, r.Priority, r.Enabled, r.UpdatedAt, r.ID)
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n == 0 {
				return ErrNotFound
			}
		}
		return record(ctx, tx, actor, ActionRuleSave, r.UpdatedAt, map[string]string{
			"rule": strconv.FormatInt(r.ID, 10), "enabled": strconv.FormatBool(r.Enabled), "match": r.Match})
	})
	if err != nil {
		return Rule{}, fmt.Errorf("save auto-reply rule: %w", err)
	}
	return r, nil
}

// DeleteRule deletes a rule; audited.
func (s *Service) DeleteRule(ctx context.Context, actor string, id int64) error {
	err := s.db.Write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM autoreply_rules WHERE id = ?`, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrNotFound
		}
		return record(ctx, tx, actor, ActionRuleDelete, s.now().UnixMilli(), map[string]string{"rule": strconv.FormatInt(id, 10)})
	})
	if err != nil {
		return fmt.Errorf("delete auto-reply rule %d: %w", id, err)
	}
	return nil
}

func record(ctx context.Context, tx *sql.Tx, actor, action string, at int64, detail map[string]string) error {
	_, err := audit.Record(ctx, tx, audit.Entry{At: at, Actor: actor, Action: action, Detail: detail})
	return err
}

// --- business hours ---

// Day is one weekday's opening hours, "HH:MM" in the settings' time zone.
type Day struct {
	Closed bool   `json:"closed"`
	Open   string `json:"open"`
	Close  string `json:"close"`
}

// Settings are the business hours and the away reply.
type Settings struct {
	TimeZone string `json:"timeZone"` // IANA name; "" is DefaultTimeZone
	// Week holds the hours per weekday, indexed by time.Weekday (0 is
	// Sunday).
	Week     [7]Day   `json:"week"`
	Holidays []string `json:"holidays"` // YYYY-MM-DD, closed all day
	// Away: outside business hours, a customer's message is answered with
	// AwayText, at most once per conversation per AwayIntervalHours.
	AwayEnabled       bool   `json:"awayEnabled"`
	AwayText          string `json:"awayText"`
	AwayIntervalHours int    `json:"awayIntervalHours"`
}

// DefaultTimeZone is where a Japanese branch keeps its hours.
const DefaultTimeZone = "Asia/Tokyo"

// DefaultSettings are a bank branch's counter hours (weekdays 9:00–15:00)
// with the away reply off until an administrator turns it on.
func DefaultSettings() Settings {
	s := Settings{TimeZone: DefaultTimeZone, Holidays: []string{}, AwayIntervalHours: 12,
		AwayText: "{氏名}様\nお問い合わせありがとうございます。ただいま営業時間外のため、{次の営業開始}以降に担当者よりご返信いたします。"}
	for d := range s.Week {
		s.Week[d] = Day{Open: "09:00", Close: "15:00", Closed: d == int(time.Sunday) || d == int(time.Saturday)}
	}
	return s
}

func (st Settings) location() *time.Location {
	name := st.TimeZone
	if name == "" {
		name = DefaultTimeZone
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		// Japan has no daylight saving time: a fixed zone is exact.
		return time.FixedZone("JST", 9*3600)
	}
	return loc
}

func clock(s string) (int, bool) {
	t, err := time.Parse("15:04", s)
	if err != nil {
		return 0, false
	}
	return t.Hour()*60 + t.Minute(), true
}

// Validate checks the settings.
func (st Settings) Validate() error {
	var l fielderr.List
	if st.TimeZone != "" {
		if _, err := time.LoadLocation(st.TimeZone); err != nil {
			l.Add("timeZone", fielderr.Choose)
		}
	}
	for i, d := range st.Week {
		if d.Closed {
			continue
		}
		at := func(f string) string { return fmt.Sprintf("week.%d.%s", i, f) }
		o, ok1 := clock(d.Open)
		c, ok2 := clock(d.Close)
		switch {
		case !ok1:
			l.Add(at("open"), fielderr.Format)
		case !ok2:
			l.Add(at("close"), fielderr.Format)
		case o >= c:
			l.Add(at("close"), fielderr.Range)
		}
	}
	for i, h := range st.Holidays {
		if _, err := time.Parse(time.DateOnly, h); err != nil {
			l.Add(fmt.Sprintf("holidays.%d", i), fielderr.Format)
		}
	}
	switch {
	case st.AwayEnabled && strings.TrimSpace(st.AwayText) == "":
		l.Add("awayText", fielderr.Required)
	case len([]rune(st.AwayText)) > 5000:
		l.AddMax("awayText", fielderr.TooLong, 5000)
	}
	if st.AwayIntervalHours < 1 || st.AwayIntervalHours > 24*7 {
		l.AddBetween("awayIntervalHours", 1, 24*7)
	}
	return l.Err(ErrInvalid)
}

// IsOpen reports whether t is within business hours.
func (st Settings) IsOpen(t time.Time) bool {
	t = t.In(st.location())
	if slices.Contains(st.Holidays, t.Format(time.DateOnly)) {
		return false
	}
	d := st.Week[t.Weekday()]
	if d.Closed {
		return false
	}
	o, _ := clock(d.Open)
	c, _ := clock(d.Close)
	m := t.Hour()*60 + t.Minute()
	return m >= o && m < c
}

// NextOpening returns when business next opens after t (within 60 days);
// false if it never does.
func (st Settings) NextOpening(t time.Time) (time.Time, bool) {
	loc := st.location()
	t = t.In(loc)
	for i := range 60 {
		day := time.Date(t.Year(), t.Month(), t.Day()+i, 0, 0, 0, 0, loc)
		d := st.Week[day.Weekday()]
		if d.Closed || slices.Contains(st.Holidays, day.Format(time.DateOnly)) {
			continue
		}
		o, ok := clock(d.Open)
		if !ok {
			continue
		}
		open := day.Add(time.Duration(o) * time.Minute)
		if open.After(t) {
			return open, true
		}
	}
	return time.Time{}, false
}

var weekdaysJa = [7]string{"日", "月", "火", "水", "木", "金", "土"}

// formatOpening writes an opening time the Japanese way: 11月26日(木) 9:00.
func formatOpening(t time.Time) string {
	return fmt.Sprintf("%d月%d日(%s) %d:%02d", t.Month(), t.Day(), weekdaysJa[t.Weekday()], t.Hour(), t.Minute())
}

// Settings returns the business hours (DefaultSettings until saved).
func (s *Service) Settings(ctx context.Context) (Settings, error) {
	return settings(ctx, s.db.Reader())
}

func settings(ctx context.Context, q querier) (Settings, error) {
	var raw string
	err := q.QueryRowContext(ctx, `SELECT config FROM autoreply_settings WHERE id = 1`).Scan(&raw)
	if errors.Is(err, sql.ErrNoRows) {
		return DefaultSettings(), nil
	}
	if err != nil {
		return Settings{}, fmt.Errorf("business hours: %w", err)
	}
	st := DefaultSettings()
	if err := json.Unmarshal([]byte(raw), &st); err != nil {
		return Settings{}, fmt.Errorf("business hours: %w", err)
	}
	if st.Holidays == nil {
		st.Holidays = []string{}
	}
	return st, nil
}

// SaveSettings stores the business hours; audited with what changed in
// shape (never the text).
func (s *Service) SaveSettings(ctx context.Context, actor string, st Settings) (Settings, error) {
	if st.TimeZone == "" {
		st.TimeZone = DefaultTimeZone
	}
	if st.Holidays == nil {
		st.Holidays = []string{}
	}
	slices.Sort(st.Holidays)
	st.Holidays = slices.Compact(st.Holidays)
	st.AwayText = strings.TrimSpace(st.AwayText)
	if err := st.Validate(); err != nil {
		return Settings{}, err
	}
	raw, err := json.Marshal(st)
	if err != nil {
		return Settings{}, err
	}
	now := s.now().UnixMilli()
	err = s.db.Write(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `
			INSERT INTO autoreply_settings (id, config, updated_at) VALUES (1, ?, ?)
			ON CONFLICT (id) DO UPDATE SET config = excluded.config, updated_at = excluded.updated_at`, string(raw), now); err != nil {
			return err
		}
		return record(ctx, tx, actor, ActionSettings, now, map[string]string{
			"away": strconv.FormatBool(st.AwayEnabled), "interval_hours": strconv.Itoa(st.AwayIntervalHours),
			"holidays": strconv.Itoa(len(st.Holidays)), "time_zone": st.TimeZone})
	})
	if err != nil {
		return Settings{}, fmt.Errorf("save business hours: %w", err)
	}
	return st, nil
}

// --- the hook ---

// HandleEvent answers a customer's message: the first enabled keyword rule
// that matches a text wins; otherwise, outside business hours, the away
// reply, unless the conversation had one within the interval. It does not
// stop the chain (a keyword reply is no reason to hide the message from
// later features).
func (s *Service) HandleEvent(ctx context.Context, tx *sql.Tx, ev inbox.HookEvent) (inbox.HookResult, error) {
	if ev.Type != "message" {
		return inbox.HookResult{}, nil
	}
	now := s.now()
	st, err := settings(ctx, ev.Q(tx))
	if err != nil {
		return inbox.HookResult{}, err
	}
	vars := func() (map[string]string, error) {
		name, err := inbox.CustomerName(ctx, tx, ev.UserID)
		if err != nil {
			return nil, err
		}
		next := ""
		if t, ok := st.NextOpening(now); ok {
			next = formatOpening(t)
		}
		return map[string]string{inbox.VarName: name, VarNextOpening: next}, nil
	}
	if ev.Kind == "text" && ev.Text != "" {
		list, err := rules(ctx, ev.Q(tx), true)
		if err != nil {
			return inbox.HookResult{}, err
		}
		for _, r := range list {
			if !r.Matches(ev.Text) {
				continue
			}
			v, err := vars()
			if err != nil {
				return inbox.HookResult{}, err
			}
			return reply(inbox.Expand(r.Reply, v)), nil
		}
	}
	if !st.AwayEnabled || st.IsOpen(now) {
		return inbox.HookResult{}, nil
	}
	var last int64
	err = tx.QueryRowContext(ctx, `SELECT sent_at FROM autoreply_away WHERE conversation_id = ?`, ev.ConversationID).Scan(&last)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return inbox.HookResult{}, fmt.Errorf("away reply: %w", err)
	}
	if err == nil && now.Sub(time.UnixMilli(last)) < time.Duration(st.AwayIntervalHours)*time.Hour {
		return inbox.HookResult{}, nil
	}
	if _, err := tx.ExecContext(ctx, `
		INSERT INTO autoreply_away (conversation_id, sent_at) VALUES (?, ?)
		ON CONFLICT (conversation_id) DO UPDATE SET sent_at = excluded.sent_at`, ev.ConversationID, now.UnixMilli()); err != nil {
		return inbox.HookResult{}, fmt.Errorf("away reply: %w", err)
	}
	v, err := vars()
	if err != nil {
		return inbox.HookResult{}, err
	}
	return reply(inbox.Expand(st.AwayText, v)), nil
}

func reply(text string) inbox.HookResult {
	return inbox.HookResult{Replies: []inbox.HookReply{{Text: text, SentBy: SentBy, Audit: Actor, Source: "autoreply"}}}
}
