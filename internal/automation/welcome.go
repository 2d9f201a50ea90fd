package automation

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"time"

	"tsunagu/internal/audit"
	"tsunagu/internal/campaign"
	"tsunagu/internal/clicks"
	"tsunagu/internal/inbox"
	"tsunagu/internal/insights"
	"tsunagu/internal/outbox"
	"tsunagu/internal/store"
)

// Reasons a welcome series stops.
const (
	StopLinked  = "linked"
	StopReplied = "replied"
	StopBlocked = "blocked"
	StopDone    = "done"
)

// Hook returns the inbox hook that enrols new friends in the active welcome
// series and stops a series when the friend replies or blocks. (A link is
// seen at send time: linking happens in several places.) A re-follow does
// not restart a series: one enrolment per rule and friend.
// The hook keeps no state, so the inbox can be built before the service.
func NewHook() inbox.Hook { return welcomeHook{} }

type welcomeHook struct{}

func (welcomeHook) HandleEvent(ctx context.Context, tx *sql.Tx, ev inbox.HookEvent) (inbox.HookResult, error) {
	at := ev.At.UnixMilli()
	var err error
	switch ev.Type {
	case "follow":
		_, err = tx.ExecContext(ctx, `INSERT OR IGNORE INTO automation_welcome (automation_id, line_user_id, followed_at)
			SELECT id, ?, ? FROM automations WHERE kind = 'welcome' AND status = 'active'`, ev.UserID, at)
	case "message", "postback":
		err = stopWelcome(ctx, ev.Q(tx), ev.UserID, StopReplied, at)
	case "unfollow":
		err = stopWelcome(ctx, ev.Q(tx), ev.UserID, StopBlocked, at)
	}
	if err != nil {
		return inbox.HookResult{}, fmt.Errorf("automation hook: %w", err)
	}
	return inbox.HookResult{}, nil
}

func stopWelcome(ctx context.Context, tx store.Execer, user, reason string, at int64) error {
	_, err := tx.ExecContext(ctx, `UPDATE automation_welcome SET stopped_at = ?, stop_reason = ? WHERE line_user_id = ? AND stopped_at IS NULL`, at, reason, user)
	return err
}

// stepDue is when step i of a series begun at followed is due.
func (r Rule) stepDue(i int, followed time.Time) time.Time {
	st := r.Spec.Steps[i]
	if st.At == "" {
		return followed.Add(time.Duration(st.DelayDays)*24*time.Hour + time.Duration(st.DelayHours)*time.Hour)
	}
	loc := r.Location()
	d := civil(followed.In(loc)).add(st.DelayDays)
	h, m := clockOf(st.At)
	due := time.Date(d.y, d.m, d.d, h, m, 0, 0, loc)
	if due.Before(followed) {
		due = followed // day 0 at a time already past: at once
	}
	return due
}

type enrolled struct {
	user      string
	followed  time.Time
	step      int
	linked    bool
	following bool
}

// runWelcome sends the steps that are due to the rule's open series.
func (s *Service) runWelcome(ctx context.Context, r Rule, res *TickResult) error {
	now := s.now()
	rows, err := s.db.Reader().QueryContext(ctx, `SELECT w.line_user_id, w.followed_at, w.next_step,
		EXISTS (SELECT 1 FROM customer_line_links l WHERE l.line_user_id = w.line_user_id),
		coalesce((SELECT u.follow_state = 'following' AND u.unreachable_at IS NULL FROM line_users u WHERE u.user_id = w.line_user_id), 0)
		FROM automation_welcome w WHERE w.automation_id = ? AND w.stopped_at IS NULL`, r.ID)
	if err != nil {
		return fmt.Errorf("welcome: %w", err)
	}
	var all []enrolled
	for rows.Next() {
		var (
			e  enrolled
			ms int64
		)
		if err := rows.Scan(&e.user, &ms, &e.step, &e.linked, &e.following); err != nil {
			rows.Close()
			return fmt.Errorf("welcome: %w", err)
		}
		e.followed = time.UnixMilli(ms)
		all = append(all, e)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("welcome: %w", err)
	}
	stops := map[string]string{}
	due := map[int][]enrolled{}
	for _, e := range all {
		switch {
		case e.linked:
			stops[e.user] = StopLinked
		case !e.following:
			stops[e.user] = StopBlocked
		case e.step >= len(r.Spec.Steps):
			stops[e.user] = StopDone
		case !r.stepDue(e.step, e.followed).After(now):
			due[e.step] = append(due[e.step], e)
		}
	}
	if len(stops) > 0 {
		err := s.db.Write(ctx, func(tx *sql.Tx) error {
			for u, why := range stops {
				if _, err := tx.ExecContext(ctx, `UPDATE automation_welcome SET stopped_at = ?, stop_reason = ? WHERE automation_id = ? AND line_user_id = ? AND stopped_at IS NULL`,
					now.UnixMilli(), why, r.ID, u); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("welcome: stop: %w", err)
		}
	}
	for step := range len(r.Spec.Steps) {
		es := due[step]
		for len(es) > 0 {
			n := min(claimBatch, len(es))
			c, err := s.claimWelcome(ctx, r, step, es[:n])
			if err != nil {
				return err
			}
			es = es[n:]
			if c == nil {
				return nil
			}
			s.fail(FailClaimed)
			s.deliver(ctx, r, c, res)
		}
	}
	return nil
}

// claimWelcome stores step's occurrences for es (late ones skipped) and
// one LINE send to the rest, and moves each series on, in one transaction.
func (s *Service) claimWelcome(ctx context.Context, r Rule, step int, es []enrolled) (*claimed, error) {
	now := s.now()
	c := &claimed{}
	occurs := "step-" + strconv.Itoa(step+1)
	// Rendered for validity (and for the multicast when nobody is greeted
	// by name); {氏名} falls back as it does per friend.
	msgs, _, err := renderLine(r.Spec.Steps[step].Messages, campaign.Person{Name: inbox.UnknownName})
	if err != nil {
		return nil, fmt.Errorf("welcome: render: %w", err)
	}
	// Validate allows only {氏名} in a welcome step.
	personal := campaign.Content{Line: r.Spec.Steps[step].Messages}.LinePersonalised()
	// A step's tracked links are each friend's own (the friend is only a
	// LINE user yet), so their message is too: one push each.
	track, base := s.tracking(ctx, r.Spec.Steps[step].content())
	err = s.db.Write(ctx, func(tx *sql.Tx) error {
		var (
			status  string
			version int
		)
		if err := tx.QueryRowContext(ctx, `SELECT status, version FROM automations WHERE id = ?`, r.ID).Scan(&status, &version); err != nil {
			return err
		}
		if status != StatusActive || version != r.Version {
			c = nil
			return nil
		}
		var send, late []enrolled
		for _, e := range es {
			// The hook may have stopped the series since it was read.
			var open int
			err := tx.QueryRowContext(ctx, `SELECT count(*) FROM automation_welcome WHERE automation_id = ? AND line_user_id = ? AND stopped_at IS NULL AND next_step = ?`,
				r.ID, e.user, step).Scan(&open)
			if err != nil {
				return err
			}
			if open == 0 {
				continue
			}
			if now.Sub(r.stepDue(step, e.followed)) > r.Lateness() {
				late = append(late, e)
			} else {
				send = append(send, e)
			}
		}
		// One multicast to everyone, or, when the step greets by name
		// ({氏名}: the LINE display name, as the friend is not yet a
		// customer), one push each.
		sendIDs := map[string]any{}
		var unit string
		if len(send) > 0 {
			// A welcome step's sends of a month share one unit.
			var err error
			if unit, err = insights.Assign(ctx, tx, insights.WelcomeStep(r.ID, step, now), now); err != nil {
				return err
			}
		}
		var minter *clicks.Minter
		if base != "" && len(send) > 0 {
			m, err := s.lnk.NewSourceMinter(ctx, tx, clicks.Source{Kind: clicks.SourceAutomation, ID: r.ID, Key: occurs}, base)
			if err != nil {
				return err
			}
			defer m.Close()
			minter = m
		}
		switch {
		case len(send) == 0:
		case personal || minter != nil:
			for _, e := range send {
				p := campaign.Person{Name: inbox.UnknownName}
				var err error
				if personal {
					if p.Name, err = inbox.CustomerName(ctx, tx, e.user); err != nil {
						return err
					}
				}
				if minter != nil {
					if p.Links, err = minter.LinksFor(ctx, clicks.Recipient{LineUser: e.user}, track); err != nil {
						return err
					}
				}
				m, _, err := renderLine(r.Spec.Steps[step].Messages, p)
				if err != nil {
					return fmt.Errorf("render: %w", err)
				}
				id, err := s.ob.EnqueueTx(ctx, tx, outbox.Request{Source: target(r.ID), To: []string{e.user}, Messages: m, Unit: unit})
				if err != nil {
					return err
				}
				c.sends = append(c.sends, id)
				sendIDs[e.user] = id
			}
		default:
			to := make([]string, len(send))
			for i, e := range send {
				to[i] = e.user
			}
			id, err := s.ob.EnqueueTx(ctx, tx, outbox.Request{Source: target(r.ID), To: to, Messages: msgs, Unit: unit})
			if err != nil {
				return err
			}
			c.sends = append(c.sends, id)
			for _, e := range send {
				sendIDs[e.user] = id
			}
		}
		insert := func(e enrolled, status, reason string, sid any) error {
			_, err := tx.ExecContext(ctx, `INSERT INTO automation_occurrences
				(automation_id, idem_key, line_user_id, occurs_on, due_at, channel, status, reason, outbox_send_id, created_at)
				VALUES (?, ?, ?, ?, ?, 'line', ?, ?, ?, ?)`,
				r.ID, "auto:"+strconv.FormatInt(r.ID, 10)+":u:"+e.user+":"+occurs, e.user, occurs, r.stepDue(step, e.followed).UnixMilli(),
				status, reason, sid, now.UnixMilli())
			if err != nil {
				return err
			}
			next, stopAt, why := step+1, any(nil), ""
			if next >= len(r.Spec.Steps) {
				stopAt, why = now.UnixMilli(), StopDone
			}
			_, err = tx.ExecContext(ctx, `UPDATE automation_welcome SET next_step = ?, stopped_at = ?, stop_reason = ? WHERE automation_id = ? AND line_user_id = ?`,
				next, stopAt, why, r.ID, e.user)
			return err
		}
		for _, e := range send {
			if err := insert(e, "sending", "", sendIDs[e.user]); err != nil {
				return err
			}
		}
		for _, e := range late {
			if err := insert(e, "skipped", SkipLate, nil); err != nil {
				return err
			}
			c.skipped++
		}
		if len(send)+len(late) == 0 {
			return nil
		}
		_, err := audit.Record(ctx, tx, audit.Entry{At: now.UnixMilli(), Actor: audit.SystemActor, Action: ActionSend, Target: target(r.ID),
			Detail: map[string]string{"occurs": occurs, "line": strconv.Itoa(len(send)), "skipped": strconv.Itoa(len(late))}})
		return err
	})
	if err != nil {
		if errors.Is(err, context.Canceled) {
			return nil, err
		}
		return nil, fmt.Errorf("welcome: claim: %w", err)
	}
	return c, nil
}
