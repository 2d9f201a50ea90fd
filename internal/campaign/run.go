package campaign

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"tsunagu/internal/audit"
	"tsunagu/internal/insights"
	"tsunagu/internal/line"
	"tsunagu/internal/mail"
	"tsunagu/internal/outbox"
	"tsunagu/internal/sms"
)

// How each channel stays exactly-once (see docs/decisions.md):
//
//   - LINE: every request's retry key was committed with its recipients'
//     rows, in the chunk of the expansion that formed it (expand.go).
//     A request whose outcome is unknown (timeout, crash after sending)
//     stays pending and is resent byte-identical with the same key within
//     outbox.RetryKeyWindow; LINE answers 409 for a copy it already
//     delivered, which counts as sent.
//   - Email: SMTP has no idempotency. A row is marked 'sending' (committed)
//     before the message is handed to the server; a row found 'sending' by
//     a later run is 'uncertain': reported for a person to check, never
//     resent. The cost: a crash can leave a few emails uncertain (at most
//     one batch) that were possibly never sent.
//   - SMS: as email, except through a provider that deduplicates by
//     idempotency key (the webhook adapter), where a 'sending' row is resent
//     with its key.

// run is one campaign being sent by this process.
type run struct {
	stop     chan struct{} // closed by Pause
	stopOnce sync.Once
}

func (r *run) stopped() bool {
	select {
	case <-r.stop:
		return true
	default:
		return false
	}
}

// checkPaused notices a pause made by another process (the app while the
// CLI resumes, say): it reads the campaign's status and stops r if it is
// no longer sending.
func (s *Service) checkPaused(ctx context.Context, id int64, r *run) bool {
	var status string
	if err := s.db.Reader().QueryRowContext(ctx, `SELECT status FROM campaigns WHERE id = ?`, id).Scan(&status); err == nil && status != StatusSending {
		r.stopOnce.Do(func() { close(r.stop) })
	}
	return r.stopped()
}

// errPaused ends a run that was paused.
var errPaused = errors.New("campaign: paused")

// launch sends campaign id in the background unless this process already is.
func (s *Service) launch(id int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.running[id] != nil || s.bgCtx.Err() != nil {
		return
	}
	r := &run{stop: make(chan struct{})}
	s.running[id] = r
	s.bg.Go(func() {
		defer func() {
			s.mu.Lock()
			delete(s.running, id)
			s.mu.Unlock()
		}()
		if err := s.send(s.bgCtx, id, r); err != nil && !errors.Is(err, errPaused) && s.bgCtx.Err() == nil {
			s.log.Warn("campaign send stopped", "campaign", id, "err", err)
		}
		s.threadLater(id)
	})
}

// Run sends campaign id in the foreground until it is done, paused, or ctx
// ends: a scheduled or approved campaign is materialised first; a sending
// one continues where it stopped. The CLI's `campaign resume` and the tests
// use it; the app uses the background scheduler.
func (s *Service) Run(ctx context.Context, actor string, id int64) error {
	c, err := s.Get(ctx, id)
	if err != nil {
		return err
	}
	switch c.Status {
	case StatusApproved, StatusScheduled:
		if err := s.materialise(ctx, actor, id); err != nil {
			return err
		}
	case StatusSending:
	case StatusDone:
		return nil
	default:
		return fmt.Errorf("run a %s campaign: %w", c.Status, ErrState)
	}
	s.mu.Lock()
	if s.running[id] != nil {
		s.mu.Unlock()
		return fmt.Errorf("campaign %d is already being sent: %w", id, ErrState)
	}
	r := &run{stop: make(chan struct{})}
	s.running[id] = r
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.running, id)
		s.mu.Unlock()
		s.threadLater(id)
	}()
	return s.send(ctx, id, r)
}

// send runs the channels of a materialised campaign in order (the LINE
// phase also expands what is left of its snapshot) and finishes it.
func (s *Service) send(ctx context.Context, id int64, r *run) error {
	s.fail(FailMaterialised)
	if err := s.settleUncertain(ctx, id); err != nil {
		return err
	}
	phases := []struct {
		channel string
		fn      func(context.Context, int64, *run) error
	}{{ChannelLine, s.sendLine}, {ChannelEmail, s.sendEmail}, {ChannelSMS, s.sendSMS}}
	var errs []error
	for i, ph := range phases {
		if i > 0 {
			s.fail(FailBetweenChannel)
		}
		if r.stopped() {
			return errPaused
		}
		if err := ph.fn(ctx, id, r); err != nil {
			if errors.Is(err, errPaused) || ctx.Err() != nil {
				return err
			}
			// One channel's outage does not hold back the others; the
			// campaign stays "sending" and the next run retries it.
			errs = append(errs, fmt.Errorf("%s: %w", ph.channel, err))
		}
	}
	if len(errs) > 0 {
		err := errors.Join(errs...)
		s.setError(ctx, id, err)
		return err
	}
	return s.finish(ctx, id)
}

func (s *Service) setError(ctx context.Context, id int64, err error) {
	msg := outbox.ErrorText(err)
	_ = s.db.Write(context.WithoutCancel(ctx), func(tx *sql.Tx) error {
		_, e := tx.ExecContext(ctx, `UPDATE campaigns SET error = ? WHERE id = ?`, msg, id)
		return e
	})
}

// finish marks the campaign done when nothing is left to send.
func (s *Service) finish(ctx context.Context, id int64) error {
	now := s.now().UnixMilli()
	return s.db.Write(context.WithoutCancel(ctx), func(tx *sql.Tx) error {
		var left int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM campaign_recipients WHERE campaign_id = ? AND status IN ('pending','sending')`, id).Scan(&left); err != nil {
			return err
		}
		var pending int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM campaign_line_requests WHERE campaign_id = ? AND status = 'pending'`, id).Scan(&pending); err != nil {
			return err
		}
		var unexpanded bool
		if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM campaign_targets WHERE campaign_id = ? AND expanded_at IS NULL)`, id).Scan(&unexpanded); err != nil {
			return err
		}
		if left > 0 || pending > 0 || unexpanded {
			return fmt.Errorf("campaign %d: %d recipients and %d LINE requests still pending (all expanded: %v)", id, left, pending, !unexpanded)
		}
		res, err := tx.ExecContext(ctx, `UPDATE campaigns SET status = 'done', finished_at = ?, error = '', updated_at = ? WHERE id = ? AND status = 'sending'`, now, now, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil // paused meanwhile: it stays paused
		}
		_, err = audit.Record(ctx, tx, audit.Entry{At: now, Actor: "system", Action: ActionFinish, Target: target(id)})
		return err
	})
}

// settleUncertain runs before any send of a run: an email/SMS row left
// 'sending' by an earlier run may have gone out. It becomes 'uncertain',
// except for SMS through a deduplicating provider, which is resent with
// its key.
func (s *Service) settleUncertain(ctx context.Context, id int64) error {
	smsIdempotent := false
	if s.cfg.SMS != nil {
		if snd, err := s.cfg.SMS(ctx); err == nil {
			if i, ok := snd.(sms.Idempotent); ok && i.Idempotent() {
				smsIdempotent = true
			}
		}
	}
	// Usually nothing is left 'sending': no write then. (The IN term lets
	// SQLite use the partial index campaign_recipients_todo.)
	var interrupted bool
	if err := s.db.Reader().QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM campaign_recipients WHERE campaign_id = ?
		AND status IN ('pending','sending') AND status = 'sending')`, id).Scan(&interrupted); err != nil {
		return fmt.Errorf("campaign: settle interrupted sends: %w", err)
	}
	if !interrupted {
		return nil
	}
	return s.db.Write(ctx, func(tx *sql.Tx) error {
		if smsIdempotent {
			if _, err := tx.ExecContext(ctx, `UPDATE campaign_recipients SET status = 'pending' WHERE campaign_id = ? AND channel = 'sms' AND status = 'sending'`, id); err != nil {
				return err
			}
		}
		_, err := tx.ExecContext(ctx, `UPDATE campaign_recipients SET status = 'uncertain',
			error = 'interrupted while sending: check whether it arrived; not resent' WHERE campaign_id = ? AND status = 'sending'`, id)
		return err
	})
}

// --- LINE ---

type lineRequest struct {
	id       int64
	kind     string
	retryKey string
	to       []string
	msgs     []line.Message
	unit     string // the campaign's aggregation unit, "" for none
}

type lineOutcome struct {
	id     int64
	res    line.SendResult
	err    error
	status string
}

// sendLine expands what is left of the campaign's snapshot while it sends
// the LINE requests: first those already stored (an earlier run's), then
// each chunk's as it commits.
func (s *Service) sendLine(ctx context.Context, id int64, r *run) error {
	c, err := s.Get(ctx, id)
	if err != nil {
		return err
	}
	// Loaded before the expansion stores new requests: none is both
	// loaded and handed over.
	x, err := s.loadExpansion(ctx, c)
	if err != nil {
		return err
	}
	reqs, err := s.pendingLine(ctx, id)
	if err != nil || len(reqs) == 0 && x == nil {
		return err
	}
	if s.cfg.Line == nil {
		// No LINE: the rows are still expanded, for email and SMS.
		if x != nil {
			formed := 0
			if err := s.expand(ctx, r, x, func(lineRequest) bool { formed++; return true }); err != nil {
				return err
			}
			if formed == 0 && len(reqs) == 0 {
				return nil
			}
		}
		return ErrOffline
	}
	// Requests stored by the start's transaction or an earlier run carry
	// tracked links that may not be on the relay yet.
	if err := s.publishLinks(ctx, id); err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	work := make(chan lineRequest)
	results := make(chan lineOutcome, 64)
	var wg sync.WaitGroup
	for range s.cfg.Workers {
		wg.Go(func() {
			for p := range work {
				oc := s.sendLineOne(ctx, p)
				s.fail(FailLineSent)
				if errors.Is(oc.err, line.ErrMonthlyLimit) {
					cancel() // nothing more goes out this month
				}
				results <- oc
			}
		})
	}
	// The expansion runs ahead of the sending; its requests queue here.
	formed := make(chan lineRequest, 1024)
	expandErr := make(chan error, 1)
	feederDone := make(chan struct{})
	if x != nil {
		go func() {
			defer close(formed)
			expandErr <- s.expand(ctx, r, x, func(p lineRequest) bool {
				select {
				case formed <- p:
					return true
				case <-feederDone:
					return false
				}
			})
		}()
	} else {
		close(formed)
		expandErr <- nil
	}
	go func() {
		defer close(work)
		defer close(feederDone)
		n := 0
		give := func(p lineRequest) bool {
			n++
			if r.stopped() || n%50 == 0 && s.checkPaused(ctx, id, r) {
				return false
			}
			select {
			case work <- p:
				return true
			case <-ctx.Done():
				return false
			}
		}
		for _, p := range reqs {
			if !give(p) {
				return
			}
		}
		for p := range formed {
			if !give(p) {
				return
			}
		}
	}()
	go func() {
		wg.Wait()
		close(results)
	}()
	firstErr, writeErr := outbox.RecordOutcomes(ctx, results, func(oc lineOutcome) error { return oc.err }, s.recordLine)
	if writeErr != nil {
		return fmt.Errorf("campaign: record LINE outcomes: %w", writeErr)
	}
	if r.stopped() {
		return errPaused
	}
	if err := <-expandErr; err != nil {
		return err
	}
	if firstErr != nil {
		var apiErr *line.APIError
		if errors.As(firstErr, &apiErr) && !apiErr.Temporary() {
			return nil // final refusals are per-request failures, in the report
		}
		return firstErr
	}
	return ctx.Err()
}

// pendingLine stamps the first attempt of the campaign's pending requests
// (giving up those whose retry key LINE has forgotten) and loads them.
func (s *Service) pendingLine(ctx context.Context, id int64) ([]lineRequest, error) {
	now := s.now()
	// Requests are stamped when they are stored; an older run's may be
	// unstamped or past the window. Usually neither: no write then.
	var stale bool
	if err := s.db.Reader().QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM campaign_line_requests WHERE campaign_id = ? AND status = 'pending'
		AND (first_tried_at IS NULL OR first_tried_at < ?))`, id, now.Add(-outbox.RetryKeyWindow).UnixMilli()).Scan(&stale); err != nil {
		return nil, fmt.Errorf("campaign: start LINE requests: %w", err)
	}
	var err error
	if stale {
		err = s.db.Write(ctx, func(tx *sql.Tx) error {
			if _, err := tx.ExecContext(ctx, `UPDATE campaign_line_requests SET status = 'failed', error = ?
				WHERE campaign_id = ? AND status = 'pending' AND first_tried_at < ?`,
				outbox.ErrExpired.Error(), id, now.Add(-outbox.RetryKeyWindow).UnixMilli()); err != nil {
				return err
			}
			_, err := tx.ExecContext(ctx, `UPDATE campaign_line_requests SET first_tried_at = ? WHERE campaign_id = ? AND status = 'pending' AND first_tried_at IS NULL`,
				now.UnixMilli(), id)
			return err
		})
	}
	if err != nil {
		return nil, fmt.Errorf("campaign: start LINE requests: %w", err)
	}
	// Every request of the campaign carries its unit ("" for a campaign
	// sent before units, or past the month's limit).
	unit, err := insights.UnitOf(ctx, s.db.Reader(), insights.CampaignKey(id))
	if err != nil {
		return nil, err
	}
	groups := map[int][]line.Message{}
	grows, err := s.db.Reader().QueryContext(ctx, `SELECT group_no, messages FROM campaign_line_groups WHERE campaign_id = ?`, id)
	if err != nil {
		return nil, fmt.Errorf("campaign: load LINE groups: %w", err)
	}
	for grows.Next() {
		var (
			g    int
			blob []byte
		)
		if err := grows.Scan(&g, &blob); err != nil {
			grows.Close()
			return nil, err
		}
		// The stored bytes go out unchanged: every attempt is byte-identical.
		msgs, err := line.UnmarshalMessages(blob)
		if err != nil {
			grows.Close()
			return nil, fmt.Errorf("campaign %d group %d: %w", id, g, err)
		}
		groups[g] = msgs
	}
	grows.Close()
	rows, err := s.db.Reader().QueryContext(ctx, `SELECT id, group_no, kind, retry_key, recipients FROM campaign_line_requests
		WHERE campaign_id = ? AND status = 'pending' ORDER BY id`, id)
	if err != nil {
		return nil, fmt.Errorf("campaign: load LINE requests: %w", err)
	}
	defer rows.Close()
	var out []lineRequest
	for rows.Next() {
		var (
			p  lineRequest
			g  int
			to string
		)
		if err := rows.Scan(&p.id, &g, &p.kind, &p.retryKey, &to); err != nil {
			return nil, err
		}
		p.to, p.msgs, p.unit = strings.Split(to, "\n"), groups[g], unit
		out = append(out, p)
	}
	return out, rows.Err()
}

func (s *Service) sendLineOne(ctx context.Context, p lineRequest) lineOutcome {
	res, err := outbox.SendWith(ctx, s.cfg.Line, p.kind, p.to, p.msgs, p.retryKey, p.unit)
	return lineOutcome{id: p.id, res: res, err: err, status: outbox.Status(err)}
}

func (s *Service) recordLine(ctx context.Context, batch []lineOutcome) error {
	now := s.now().UnixMilli()
	return s.db.Write(ctx, func(tx *sql.Tx) error {
		for _, oc := range batch {
			var sentAt any
			if oc.status == "sent" {
				sentAt = now
			}
			msg := outbox.ErrorText(oc.err)
			if _, err := tx.ExecContext(ctx, `UPDATE campaign_line_requests SET status = ?, attempts = attempts + ?, http_status = ?,
				request_id = ?, accepted_request_id = ?, error = ?, sent_at = ? WHERE id = ?`,
				oc.status, oc.res.Attempts, oc.res.Status, oc.res.RequestID, oc.res.AcceptedRequestID, msg, sentAt, oc.id); err != nil {
				return err
			}
		}
		return nil
	})
}

// --- email and SMS ---

// directBatch is how many email/SMS rows are marked 'sending' per commit:
// after a crash at most this many are uncertain.
const directBatch = 8

type directRow struct {
	customerID int64
	address    string
	key        string
	person     Person
}

type directOutcome struct {
	customerID int64
	status     string // sent, failed, uncertain
	providerID string
	err        error
}

func (s *Service) sendEmail(ctx context.Context, id int64, r *run) error {
	has, err := s.hasPending(ctx, id, ChannelEmail)
	if err != nil || !has {
		return err
	}
	if s.cfg.Mailer == nil {
		return ErrNoMailer
	}
	m, err := s.cfg.Mailer(ctx)
	if err != nil {
		return errors.Join(ErrNoMailer, err)
	}
	c, err := s.Get(ctx, id)
	if err != nil {
		return err
	}
	return s.sendDirect(ctx, id, ChannelEmail, r, func(ctx context.Context, row directRow) directOutcome {
		subject, text, err := c.Content.RenderEmail(row.person)
		if err != nil {
			// The value went away after the row was written: not sent.
			return directOutcome{customerID: row.customerID, status: "failed", err: err}
		}
		msgID := mail.MessageID(row.key, m.From())
		err = m.Send(ctx, mail.Message{To: row.address, Subject: subject, Text: text, MessageID: msgID})
		s.fail(FailEmailAccepted)
		switch {
		case err == nil:
			return directOutcome{customerID: row.customerID, status: "sent", providerID: msgID}
		case errors.Is(err, mail.ErrUncertain):
			return directOutcome{customerID: row.customerID, status: "uncertain", err: err}
		}
		return directOutcome{customerID: row.customerID, status: "failed", err: err}
	})
}

func (s *Service) sendSMS(ctx context.Context, id int64, r *run) error {
	has, err := s.hasPending(ctx, id, ChannelSMS)
	if err != nil || !has {
		return err
	}
	if s.cfg.SMS == nil {
		return ErrNoSMS
	}
	snd, err := s.cfg.SMS(ctx)
	if err != nil {
		return errors.Join(ErrNoSMS, err)
	}
	idempotent := false
	if i, ok := snd.(sms.Idempotent); ok {
		idempotent = i.Idempotent()
	}
	c, err := s.Get(ctx, id)
	if err != nil {
		return err
	}
	return s.sendDirect(ctx, id, ChannelSMS, r, func(ctx context.Context, row directRow) directOutcome {
		text, err := c.Content.RenderSMS(row.person)
		if err != nil {
			return directOutcome{customerID: row.customerID, status: "failed", err: err}
		}
		pid, err := snd.Send(ctx, row.address, text, row.key)
		s.fail(FailSMSAccepted)
		switch {
		case err == nil:
			return directOutcome{customerID: row.customerID, status: "sent", providerID: pid}
		case errors.Is(err, sms.ErrUncertain) && idempotent:
			// Resent with the same key by the next run.
			return directOutcome{customerID: row.customerID, status: "pending", err: err}
		case errors.Is(err, sms.ErrUncertain):
			return directOutcome{customerID: row.customerID, status: "uncertain", err: err}
		}
		return directOutcome{customerID: row.customerID, status: "failed", err: err}
	})
}

func (s *Service) hasPending(ctx context.Context, id int64, channel string) (bool, error) {
	var ok bool
	err := s.db.Reader().QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM campaign_recipients WHERE campaign_id = ? AND channel = ? AND status = 'pending')`,
		id, channel).Scan(&ok)
	return ok, err
}

// sendDirect sends a channel's pending rows in batches: mark the batch
// 'sending' (one commit), send its messages concurrently, write the outcomes
// (one commit).
func (s *Service) sendDirect(ctx context.Context, id int64, channel string, r *run, send func(context.Context, directRow) directOutcome) error {
	var retryLater error
	for {
		if r.stopped() || s.checkPaused(ctx, id, r) {
			return errPaused
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		rows, err := s.nextBatch(ctx, id, channel)
		if err != nil {
			return err
		}
		if len(rows) == 0 {
			return retryLater
		}
		outs := make([]directOutcome, len(rows))
		var wg sync.WaitGroup
		for i, row := range rows {
			wg.Go(func() { outs[i] = send(ctx, row) })
		}
		wg.Wait()
		now := s.now().UnixMilli()
		err = s.db.Write(context.WithoutCancel(ctx), func(tx *sql.Tx) error {
			for _, o := range outs {
				msg := outbox.ErrorText(o.err)
				var sentAt any
				if o.status == "sent" {
					sentAt = now
				}
				if _, err := tx.ExecContext(ctx, `UPDATE campaign_recipients SET status = ?, provider_id = ?, error = ?, sent_at = ?
					WHERE campaign_id = ? AND customer_id = ?`, o.status, o.providerID, msg, sentAt, id, o.customerID); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("campaign: record %s outcomes: %w", channel, err)
		}
		for _, o := range outs {
			if o.status == "pending" {
				// A deduplicating provider did not answer: the rest waits
				// for the next run rather than hammering it.
				retryLater = fmt.Errorf("%s provider did not answer: %w", channel, o.err)
			}
		}
		if retryLater != nil {
			return retryLater
		}
	}
}

// nextBatch marks up to directBatch pending rows 'sending' and returns them.
func (s *Service) nextBatch(ctx context.Context, id int64, channel string) ([]directRow, error) {
	var out []directRow
	now := s.now().UnixMilli()
	err := s.db.Write(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `
			SELECT r.customer_id, r.address, r.idem_key, c.name, c.branch, c.staff_in_charge
			FROM campaign_recipients r JOIN customers c ON c.id = r.customer_id
			WHERE r.campaign_id = ? AND r.channel = ? AND r.status = 'pending' ORDER BY r.customer_id LIMIT ?`, id, channel, directBatch)
		if err != nil {
			return err
		}
		for rows.Next() {
			var d directRow
			if err := rows.Scan(&d.customerID, &d.address, &d.key, &d.person.Name, &d.person.Branch, &d.person.Staff); err != nil {
				rows.Close()
				return err
			}
			out = append(out, d)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, d := range out {
			if _, err := tx.ExecContext(ctx, `UPDATE campaign_recipients SET status = 'sending', attempted_at = ? WHERE campaign_id = ? AND customer_id = ?`,
				now, id, d.customerID); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("campaign: next %s batch: %w", channel, err)
	}
	return out, nil
}

// --- scheduler ---

// Start resumes campaigns left sending (a crash, a restart) and runs the
// scheduler until Close: every interval it starts the campaigns whose time
// has come.
func (s *Service) Start(interval time.Duration) {
	if interval <= 0 {
		interval = 15 * time.Second
	}
	s.bg.Go(func() {
		s.tick(s.bgCtx, true)
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-s.bgCtx.Done():
				return
			case <-t.C:
				s.tick(s.bgCtx, false)
			}
		}
	})
}

// Tick starts due campaigns (and, with resume, those left sending). The
// scheduler calls it; tests call it with an injected clock.
func (s *Service) Tick(ctx context.Context, resume bool) { s.tick(ctx, resume) }

func (s *Service) tick(ctx context.Context, resume bool) {
	q := `SELECT id, status FROM campaigns WHERE status = 'scheduled' AND scheduled_at <= ?`
	if resume {
		q += ` OR status = 'sending'`
	}
	rows, err := s.db.Reader().QueryContext(ctx, q+` ORDER BY id`, s.now().UnixMilli())
	if err != nil {
		s.log.Warn("campaign scheduler", "err", err)
		return
	}
	type due struct {
		id     int64
		status string
	}
	var list []due
	for rows.Next() {
		var d due
		if rows.Scan(&d.id, &d.status) == nil {
			list = append(list, d)
		}
	}
	rows.Close()
	for _, d := range list {
		if d.status == StatusScheduled {
			if err := s.materialise(ctx, "system", d.id); err != nil {
				s.log.Warn("scheduled campaign not started", "campaign", d.id, "err", err)
				s.setError(ctx, d.id, err)
				continue
			}
		}
		s.launch(d.id)
	}
	s.threadLeftovers(ctx)
}
