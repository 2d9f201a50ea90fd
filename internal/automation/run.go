package automation

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"tsunagu/internal/audit"
	"tsunagu/internal/campaign"
	"tsunagu/internal/clicks"
	"tsunagu/internal/insights"
	"tsunagu/internal/line"
	"tsunagu/internal/outbox"
)

// MaxCatchUpDays bounds how many missed local days a date rule looks back
// over after the app was closed; older days are passed over unrecorded
// (their occurrences are past any lateness anyway).
const MaxCatchUpDays = 31

// claimBatch is how many occurrences one transaction claims.
const claimBatch = 500

// TickResult counts what one scheduler pass did.
type TickResult struct {
	Sent    int `json:"sent"`
	Skipped int `json:"skipped"`
	Failed  int `json:"failed"`
}

// Tick is one scheduler pass: it finishes sends a crash interrupted, then
// sends what every active rule has due now.
func (s *Service) Tick(ctx context.Context) (TickResult, error) {
	s.runMu.Lock()
	defer s.runMu.Unlock()
	var res TickResult
	if err := s.resume(ctx, &res); err != nil {
		return res, err
	}
	rules, err := s.list(ctx, s.db.Reader(), `WHERE status = 'active' ORDER BY id`)
	if err != nil {
		return res, err
	}
	var errs []error
	for _, r := range rules {
		var err error
		if r.Kind == KindDate {
			err = s.runDate(ctx, r, &res)
		} else {
			err = s.runWelcome(ctx, r, &res)
		}
		if err != nil {
			if ctx.Err() != nil {
				return res, ctx.Err()
			}
			errs = append(errs, fmt.Errorf("automation %d: %w", r.ID, err))
		}
	}
	for _, t := range s.trig {
		n, err := t.RunDue(ctx)
		res.Sent += n
		if err != nil {
			errs = append(errs, fmt.Errorf("automation trigger: %w", err))
		}
	}
	return res, errors.Join(errs...)
}

// runDate decides and sends each local day since the rule's last decided
// day whose send time has come.
func (s *Service) runDate(ctx context.Context, r Rule, res *TickResult) error {
	now := s.now()
	loc := r.Location()
	today := civil(now.In(loc))
	start, ok := parseDay(r.CheckedThrough)
	if !ok {
		start = today.add(-1)
	}
	start = start.add(1)
	if oldest := today.add(-MaxCatchUpDays); start.before(oldest) {
		start = oldest
	}
	for d := start; !today.before(d); d = d.add(1) {
		at := r.sendTime(d, loc)
		if at.After(now) {
			break
		}
		skip := ""
		switch target := r.targetOf(d); {
		case r.Spec.OffsetDays <= 0 && target.before(today):
			// Never remind of a date that has passed.
			skip = SkipDatePassed
		case now.Sub(at) > r.Lateness():
			skip = SkipLate
		}
		if err := s.runDay(ctx, r, d, at, skip, res); err != nil {
			return err
		}
	}
	return nil
}

// runDay claims and sends rule r's occurrences of local day d in batches,
// then marks d decided.
func (s *Service) runDay(ctx context.Context, r Rule, d day, at time.Time, skip string, res *TickResult) error {
	var all []due
	if err := s.decide(ctx, r, d, func(x due) { all = append(all, x) }); err != nil {
		return err
	}
	occurs := r.targetOf(d).String()
	for {
		n := min(claimBatch, len(all))
		batch := all[:n]
		all = all[n:]
		last := len(all) == 0
		c, err := s.claim(ctx, r, batch, occurs, at, skip, func(tx *sql.Tx) error {
			if !last {
				return nil
			}
			_, err := tx.ExecContext(ctx, `UPDATE automations SET checked_through = ? WHERE id = ? AND checked_through < ?`, d.String(), r.ID, d.String())
			return err
		})
		if err != nil {
			return err
		}
		if c == nil { // the rule stopped
			return nil
		}
		s.fail(FailClaimed)
		s.deliver(ctx, r, c, res)
		if last {
			break
		}
	}
	return nil
}

// claimed is what one claim transaction stored for sending.
type claimed struct {
	sends   []int64 // outbox sends
	direct  []occ   // email and SMS
	skipped int
}

type occ struct {
	id      int64
	key     string
	channel string
	address string
	person  campaign.Person
}

// claim stores one batch of occurrences (skipped ones with their reason)
// and the LINE sends with their retry keys, in one transaction, if the rule
// is still active at the version that was decided. tail adds the caller's
// own writes to the transaction.
func (s *Service) claim(ctx context.Context, r Rule, batch []due, occurs string, at time.Time, skip string, tail func(*sql.Tx) error) (*claimed, error) {
	now := s.now().UnixMilli()
	c := &claimed{}
	counts := map[string]int{}
	track, base := s.tracking(ctx, r.Spec.Content)
	err := s.db.Write(ctx, func(tx *sql.Tx) error {
		var (
			status  string
			version int
		)
		if err := tx.QueryRowContext(ctx, `SELECT status, version FROM automations WHERE id = ?`, r.ID).Scan(&status, &version); err != nil {
			return fmt.Errorf("claim: %w", err)
		}
		if status != StatusActive || version != r.Version {
			c = nil
			return nil
		}
		ins, err := tx.PrepareContext(ctx, `INSERT INTO automation_occurrences
			(automation_id, idem_key, customer_id, line_user_id, occurs_on, due_at, channel, address, status, reason, outbox_send_id, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (idem_key) DO NOTHING RETURNING id`)
		if err != nil {
			return fmt.Errorf("claim: %w", err)
		}
		defer ins.Close()
		type group struct {
			msgs []line.Message
			ds   []due
		}
		groups := map[string]*group{}
		var order []string
		var minter *clicks.Minter
		if base != "" {
			// Each recipient's links are their own (the day is the send), so
			// their message is too: one push each instead of a multicast.
			m, err := s.lnk.NewSourceMinter(ctx, tx, clicks.Source{Kind: clicks.SourceAutomation, ID: r.ID, Key: occurs}, base)
			if err != nil {
				return fmt.Errorf("claim: %w", err)
			}
			defer m.Close()
			minter = m
		}
		for _, x := range batch {
			key := idemKey(r.ID, x.customerID, occurs)
			reason := x.reason
			if skip != "" {
				reason = skip
			}
			if x.channel == "none" || reason != "" {
				var id int64
				err := ins.QueryRowContext(ctx, r.ID, key, x.customerID, "", occurs, at.UnixMilli(), x.channel, "", "skipped", reason, nil, now).Scan(&id)
				if err != nil && !errors.Is(err, sql.ErrNoRows) {
					return fmt.Errorf("claim: %w", err)
				}
				counts["skipped"]++
				if err == nil {
					c.skipped++
				}
				continue
			}
			if x.channel == campaign.ChannelLine {
				if minter != nil {
					if x.person.Links, err = minter.Links(ctx, x.customerID, track); err != nil {
						return fmt.Errorf("claim: %w", err)
					}
				}
				msgs, blob, err := renderLine(r.Spec.Content.Line, x.person)
				if err != nil {
					return fmt.Errorf("claim: render: %w", err)
				}
				g := groups[string(blob)]
				if g == nil {
					g = &group{msgs: msgs}
					groups[string(blob)] = g
					order = append(order, string(blob))
				}
				g.ds = append(g.ds, x)
				continue
			}
			var id int64
			err := ins.QueryRowContext(ctx, r.ID, key, x.customerID, "", occurs, at.UnixMilli(), x.channel, x.address, "sending", "", nil, now).Scan(&id)
			if errors.Is(err, sql.ErrNoRows) {
				continue // claimed by an earlier pass
			}
			if err != nil {
				return fmt.Errorf("claim: %w", err)
			}
			c.direct = append(c.direct, occ{id: id, key: key, channel: x.channel, address: x.address, person: x.person})
			counts[x.channel]++
		}
		var unit string
		if len(order) > 0 {
			// A reminder's LINE sends of a month share one unit.
			if unit, err = insights.Assign(ctx, tx, insights.Reminder(r.ID, time.UnixMilli(now)), time.UnixMilli(now)); err != nil {
				return fmt.Errorf("claim: %w", err)
			}
		}
		for _, k := range order {
			g := groups[k]
			to := make([]string, len(g.ds))
			for i, x := range g.ds {
				to[i] = x.address
			}
			sendID, err := s.ob.EnqueueTx(ctx, tx, outbox.Request{Source: target(r.ID), To: to, Messages: g.msgs, Unit: unit})
			if err != nil {
				return fmt.Errorf("claim: %w", err)
			}
			c.sends = append(c.sends, sendID)
			for _, x := range g.ds {
				var id int64
				err := ins.QueryRowContext(ctx, r.ID, idemKey(r.ID, x.customerID, occurs), x.customerID, x.address, occurs, at.UnixMilli(),
					x.channel, "", "sending", "", sendID, now).Scan(&id)
				if errors.Is(err, sql.ErrNoRows) {
					// Decided twice; cannot happen under runMu, and the
					// UNIQUE key keeps it from sending twice if it did.
					return fmt.Errorf("claim: occurrence of customer %d already claimed", x.customerID)
				}
				if err != nil {
					return fmt.Errorf("claim: %w", err)
				}
			}
			counts["line"] += len(g.ds)
		}
		if len(batch) > 0 {
			detail := map[string]string{"occurs": occurs}
			for k, v := range counts {
				detail[k] = strconv.Itoa(v)
			}
			if _, err := audit.Record(ctx, tx, audit.Entry{At: now, Actor: audit.SystemActor, Action: ActionSend, Target: target(r.ID), Detail: detail}); err != nil {
				return err
			}
		}
		return tail(tx)
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}

// tracking returns the LINE links of content to track and the prefix of
// tracked links, or nothing when there are none or no relay to send them
// through (then links go as written).
func (s *Service) tracking(ctx context.Context, content campaign.Content) ([]string, string) {
	if s.lnk == nil {
		return nil, ""
	}
	track := content.TrackedLinks()
	if len(track) == 0 {
		return nil, ""
	}
	base := s.lnk.Base(ctx)
	if base == "" {
		return nil, ""
	}
	return track, base
}

// publishLinks puts rule's tracked links not yet on the relay there before
// any message carrying them is sent; false (logged) when the relay cannot
// take them now: the sends wait for a later pass.
func (s *Service) publishLinks(ctx context.Context, rule int64) bool {
	if s.lnk == nil {
		return true
	}
	if err := s.lnk.PublishSource(ctx, clicks.Source{Kind: clicks.SourceAutomation, ID: rule}); err != nil {
		s.log.Warn("automation: tracked links not published; its LINE sends wait", "automation", rule, "err", err)
		return false
	}
	return true
}

// deliver sends a claim's LINE sends and emails/SMS and records outcomes.
func (s *Service) deliver(ctx context.Context, r Rule, c *claimed, res *TickResult) {
	res.Skipped += c.skipped
	if len(c.sends) > 0 && !s.publishLinks(ctx, r.ID) {
		c.sends = nil // stay 'sending': a later pass publishes and sends them
	}
	for _, id := range c.sends {
		s.sendLine(ctx, id, res)
	}
	for _, o := range c.direct {
		s.sendDirect(ctx, r, o, res)
	}
}

func (s *Service) sendLine(ctx context.Context, sendID int64, res *TickResult) {
	if _, err := s.ob.Send(ctx, sendID); errors.Is(err, outbox.ErrOffline) {
		return // stays 'sending'; a later pass (or outbox.Resume) sends it
	}
	s.fail(FailLineSent)
	// Each occurrence takes the outcome of the request (multicast chunk)
	// that carried its recipient; one still pending stays 'sending'.
	now := s.now().UnixMilli()
	werr := s.db.Write(context.WithoutCancel(ctx), func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT status, recipients FROM outbox_requests WHERE send_id = ? AND status IN ('sent','failed')`, sendID)
		if err != nil {
			return err
		}
		type outcome struct{ status, recipients string }
		var outs []outcome
		for rows.Next() {
			var o outcome
			if err := rows.Scan(&o.status, &o.recipients); err != nil {
				rows.Close()
				return err
			}
			outs = append(outs, o)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		upd, err := tx.PrepareContext(ctx, `UPDATE automation_occurrences SET status = ?, reason = ?, sent_at = ?
			WHERE outbox_send_id = ? AND line_user_id = ? AND status = 'sending'`)
		if err != nil {
			return err
		}
		defer upd.Close()
		for _, o := range outs {
			reason, sentAt := "", any(now)
			if o.status == "failed" {
				reason, sentAt = "line", nil
			}
			for _, user := range strings.Split(o.recipients, "\n") {
				r, err := upd.ExecContext(ctx, o.status, reason, sentAt, sendID, user)
				if err != nil {
					return err
				}
				n, _ := r.RowsAffected()
				if o.status == "sent" {
					res.Sent += int(n)
				} else {
					res.Failed += int(n)
				}
			}
		}
		return nil
	})
	if werr != nil {
		s.log.Warn("automation: recording a LINE send", "send", sendID, "err", werr)
	}
}

func (s *Service) sendDirect(ctx context.Context, r Rule, o occ, res *TickResult) {
	if s.ntf == nil {
		s.finishDirect(ctx, o.id, "failed", "not_set_up", res)
		return
	}
	var err error
	if o.channel == campaign.ChannelEmail {
		var subject, text string
		if subject, text, err = r.Spec.Content.RenderEmail(o.person); err == nil {
			err = s.ntf.SendEmail(ctx, o.address, subject, text, o.key)
		}
	} else {
		var text string
		if text, err = r.Spec.Content.RenderSMS(o.person); err == nil {
			err = s.ntf.SendSMS(ctx, o.address, text, o.key)
		}
	}
	if errors.Is(err, campaign.ErrPlaceholder) {
		// The value went away after the claim: not sent, never with a hole.
		s.finishDirect(ctx, o.id, "failed", SkipPlaceholder, res)
		return
	}
	s.fail(FailEmailSent)
	switch {
	case err == nil:
		s.finishDirect(ctx, o.id, "sent", "", res)
	case errors.Is(err, campaign.ErrNotifyUncertain):
		s.finishDirect(ctx, o.id, "uncertain", "interrupted", res)
	case errors.Is(err, campaign.ErrNoMailer), errors.Is(err, campaign.ErrNoSMS):
		s.finishDirect(ctx, o.id, "failed", "not_set_up", res)
	case ctx.Err() != nil:
		// Stays 'sending': the next pass asks the notifier again.
	default:
		s.finishDirect(ctx, o.id, "failed", o.channel, res)
	}
}

func (s *Service) finishDirect(ctx context.Context, id int64, status, reason string, res *TickResult) {
	var sentAt any
	if status == "sent" {
		sentAt = s.now().UnixMilli()
		res.Sent++
	} else {
		res.Failed++
	}
	err := s.db.Write(context.WithoutCancel(ctx), func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE automation_occurrences SET status = ?, reason = ?, sent_at = ? WHERE id = ?`, status, reason, sentAt, id)
		return err
	})
	if err != nil {
		s.log.Warn("automation: recording a send", "occurrence", id, "err", err)
	}
}

// resume finishes occurrences left 'sending' by a crash: LINE sends go out
// again with their stored retry keys, email and SMS ask the notifier,
// which sends a key never sent and reports one that may have arrived.
func (s *Service) resume(ctx context.Context, res *TickResult) error {
	rows, err := s.db.Reader().QueryContext(ctx, `SELECT DISTINCT outbox_send_id, automation_id FROM automation_occurrences
		WHERE status = 'sending' AND outbox_send_id IS NOT NULL ORDER BY 1`)
	if err != nil {
		return fmt.Errorf("automation: resume: %w", err)
	}
	type pendingSend struct{ id, rule int64 }
	var sends []pendingSend
	for rows.Next() {
		var p pendingSend
		rows.Scan(&p.id, &p.rule)
		sends = append(sends, p)
	}
	rows.Close()
	published := map[int64]bool{}
	for _, p := range sends {
		ok, seen := published[p.rule]
		if !seen {
			ok = s.publishLinks(ctx, p.rule)
			published[p.rule] = ok
		}
		if ok {
			s.sendLine(ctx, p.id, res)
		}
	}
	rows, err = s.db.Reader().QueryContext(ctx, `SELECT o.id, o.automation_id, o.idem_key, o.channel, o.address,
		coalesce(c.name, ''), coalesce(c.branch, ''), coalesce(c.staff_in_charge, '')
		FROM automation_occurrences o LEFT JOIN customers c ON c.id = o.customer_id
		WHERE o.status = 'sending' AND o.outbox_send_id IS NULL AND o.channel IN ('email','sms') ORDER BY o.id`)
	if err != nil {
		return fmt.Errorf("automation: resume: %w", err)
	}
	type pending struct {
		rule int64
		o    occ
	}
	var ps []pending
	for rows.Next() {
		var p pending
		if err := rows.Scan(&p.o.id, &p.rule, &p.o.key, &p.o.channel, &p.o.address, &p.o.person.Name, &p.o.person.Branch, &p.o.person.Staff); err != nil {
			rows.Close()
			return fmt.Errorf("automation: resume: %w", err)
		}
		ps = append(ps, p)
	}
	rows.Close()
	for _, p := range ps {
		r, err := s.Get(ctx, p.rule)
		if err != nil {
			return err
		}
		s.sendDirect(ctx, r, p.o, res)
	}
	return nil
}
