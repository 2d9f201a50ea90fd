package inbox

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"

	"tsunagu/internal/line"
)

// The background fetcher works the fetch jobs (fetch.go): one dispatcher
// and a few workers per lane, its own rate limit and circuit breaker per
// LINE endpoint (profiles on the API host, content on the data host),
// jittered exponential backoff per job, and one writer that stores results
// in batched transactions. It never gives up a job for a temporary reason:
// only LINE's 404/410 (content expired, user unreachable), another
// permanent 4xx, or content too large end one.

// ProfileSource fetches a user's profile (line.Client.Profile).
type ProfileSource interface {
	Profile(ctx context.Context, userID string) (line.Profile, error)
}

// LaneConfig configures one lane of the fetcher.
type LaneConfig struct {
	Workers int           // requests in flight at once
	Timeout time.Duration // bounds one request, the whole download included
}

// FetchConfig configures the background fetcher; zero fields take the
// defaults.
type FetchConfig struct {
	// Profiles and Content make the requests; nil means Config.Sender
	// and Config.Content. The engine gives a client that does not retry
	// by itself: the fetcher's backoff and breakers decide.
	Profiles ProfileSource
	Content  ContentSource
	// Lanes: profile 32 workers / 60 s, small 16 / 90 s, large 2 / 10 min.
	// The timeouts outlast an API that answers after 30 s.
	Lanes map[string]LaneConfig
	// ProfilePerSecond and ContentPerSecond are the fetcher's own rate
	// limits (default 200 and 100 requests a second), well under LINE's
	// 2,000, leaving the channel's budget to sends.
	ProfilePerSecond, ContentPerSecond float64
	Backoff                            Backoff // default 1 s doubling to 5 min
	Breaker                            BreakerConfig
	// Poll is how often idle lanes look for due jobs written by another
	// process (the CLI); default 5 s. New jobs of this process wake them.
	Poll time.Duration
}

var defaultLanes = map[string]LaneConfig{
	LaneProfile: {Workers: 32, Timeout: 60 * time.Second},
	LaneSmall:   {Workers: 16, Timeout: 90 * time.Second},
	LaneLarge:   {Workers: 2, Timeout: 10 * time.Minute},
}

func (c FetchConfig) withDefaults() FetchConfig {
	lanes := make(map[string]LaneConfig, len(defaultLanes))
	for name, d := range defaultLanes {
		l := c.Lanes[name]
		if l.Workers <= 0 {
			l.Workers = d.Workers
		}
		if l.Timeout <= 0 {
			l.Timeout = d.Timeout
		}
		lanes[name] = l
	}
	c.Lanes = lanes
	if c.ProfilePerSecond <= 0 {
		c.ProfilePerSecond = 200
	}
	if c.ContentPerSecond <= 0 {
		c.ContentPerSecond = 100
	}
	c.Backoff = c.Backoff.withDefaults(time.Second, 5*time.Minute)
	if c.Poll <= 0 {
		c.Poll = 5 * time.Second
	}
	return c
}

// fetchJob is one claimed job.
type fetchJob struct {
	id       int64
	kind     string // profile, content
	lane     string
	target   string // LINE user ID or LINE message ID
	attempts int
}

// fetch outcomes.
const (
	fetchOK          = iota // profile or content in hand
	fetchUnreachable        // profile 404: the user blocked the account or is gone
	fetchGone               // given up for good (reason)
	fetchRetry              // temporary: try again after a backoff
)

type fetchResult struct {
	job     fetchJob
	outcome int
	reason  string // fetchGone
	errText string // HTTP status or error class, for last_error
	profile line.Profile
	data    []byte
	typ     string
}

type fetcher struct {
	ib       *Inbox
	cfg      FetchConfig
	profiles ProfileSource
	content  ContentSource
	gates    map[string]*gate // per endpoint: profile, content
	results  chan fetchResult

	mu       sync.Mutex
	inflight map[int64]bool
}

// endpointOf is the LINE endpoint a lane's requests go to.
func endpointOf(lane string) string {
	if lane == LaneProfile {
		return string(line.EndpointProfile)
	}
	return string(line.EndpointContent)
}

func (f *fetcher) breakerOf(lane string) *breaker {
	if lane == LaneProfile {
		return f.ib.brProfile
	}
	return f.ib.brContent
}

// newFetcher is a fetcher over the inbox's config: its own LINE clients
// (the inbox's when none are given) and rate gates.
func (ib *Inbox) newFetcher() *fetcher {
	cfg := ib.fetchCfg
	f := &fetcher{ib: ib, cfg: cfg, profiles: cfg.Profiles, content: cfg.Content,
		gates: map[string]*gate{
			string(line.EndpointProfile): newGate(cfg.ProfilePerSecond),
			string(line.EndpointContent): newGate(cfg.ContentPerSecond),
		},
		results: make(chan fetchResult, 64), inflight: map[int64]bool{}}
	if f.profiles == nil && ib.send != nil {
		f.profiles = ib.send
	}
	if f.content == nil {
		f.content = ib.content
	}
	return f
}

// runFetcher works the jobs until ctx ends.
func (ib *Inbox) runFetcher(ctx context.Context) {
	f := ib.newFetcher()
	cfg := f.cfg
	var lanes sync.WaitGroup
	for name, lc := range cfg.Lanes {
		if name == LaneProfile && f.profiles == nil || name != LaneProfile && f.content == nil {
			continue
		}
		lanes.Go(func() { f.runLane(ctx, name, lc) })
	}
	writerDone := make(chan struct{})
	go func() {
		defer close(writerDone)
		f.runWriter(ctx)
	}()
	lanes.Wait()
	close(f.results)
	<-writerDone
}

// runLane hands due jobs of one lane to its workers.
func (f *fetcher) runLane(ctx context.Context, lane string, lc LaneConfig) {
	jobs := make(chan fetchJob)
	var workers sync.WaitGroup
	for range lc.Workers {
		workers.Go(func() {
			for j := range jobs {
				f.work(ctx, j, lc.Timeout)
			}
		})
	}
	defer func() {
		close(jobs)
		workers.Wait()
	}()
	br := f.breakerOf(lane)
	for ctx.Err() == nil {
		// Take the signal first: a job recorded after the query below
		// fires it, so it is never missed.
		woken := f.ib.fetchSig.wait()
		limit := 2 * lc.Workers
		if open, _ := br.state(); open {
			// One probe at a time while the endpoint is down.
			if _, wait := br.peek(); wait > 0 {
				sleep(ctx, wait, woken)
				continue
			}
			limit = 1
		}
		batch, next, err := f.due(ctx, lane, limit)
		if err != nil {
			if ctx.Err() == nil {
				f.ib.log.Warn("reading fetch jobs", "lane", lane, "err", err)
			}
			sleep(ctx, f.cfg.Poll, nil)
			continue
		}
		if len(batch) == 0 {
			wait := f.cfg.Poll
			if next > 0 {
				wait = min(wait, time.Duration(next-f.ib.now().UnixMilli())*time.Millisecond)
			}
			sleep(ctx, max(wait, time.Millisecond), woken)
			continue
		}
		for _, j := range batch {
			select {
			case jobs <- j:
			case <-ctx.Done():
				f.done(j.id)
			}
		}
		if limit == 1 {
			// Wait for the probe's answer before the next round.
			sleep(ctx, 50*time.Millisecond, nil)
		}
	}
}

// due claims up to limit due jobs of the lane that are not in flight, and
// returns the earliest next_at of the lane's other pending jobs (0: none).
func (f *fetcher) due(ctx context.Context, lane string, limit int) ([]fetchJob, int64, error) {
	f.mu.Lock()
	busy := len(f.inflight)
	f.mu.Unlock()
	now := f.ib.now().UnixMilli()
	rows, err := f.ib.db.Reader().QueryContext(ctx, `
		SELECT id, kind, target, attempts FROM fetch_jobs
		WHERE status = 'pending' AND lane = ? AND next_at <= ? ORDER BY next_at, id LIMIT ?`, lane, now, limit+busy)
	if err != nil {
		return nil, 0, err
	}
	var out []fetchJob
	f.mu.Lock()
	for rows.Next() && len(out) < limit {
		j := fetchJob{lane: lane}
		if err := rows.Scan(&j.id, &j.kind, &j.target, &j.attempts); err != nil {
			f.mu.Unlock()
			rows.Close()
			return nil, 0, err
		}
		if f.inflight[j.id] {
			continue
		}
		f.inflight[j.id] = true
		out = append(out, j)
	}
	f.mu.Unlock()
	rows.Close()
	if err := rows.Err(); err != nil {
		for _, j := range out {
			f.done(j.id)
		}
		return nil, 0, err
	}
	if len(out) > 0 {
		return out, 0, nil
	}
	var next sql.NullInt64
	if err := f.ib.db.Reader().QueryRowContext(ctx, `
		SELECT MIN(next_at) FROM fetch_jobs WHERE status = 'pending' AND lane = ? AND next_at > ?`, lane, now).Scan(&next); err != nil {
		return nil, 0, err
	}
	return nil, next.Int64, nil
}

// done forgets a job in flight, once its result is stored or it was put
// back untried.
func (f *fetcher) done(id int64) {
	f.mu.Lock()
	delete(f.inflight, id)
	f.mu.Unlock()
}

// work makes one job's request and hands the result to the writer.
func (f *fetcher) work(ctx context.Context, j fetchJob, timeout time.Duration) {
	br := f.breakerOf(j.lane)
	if ok, _ := br.allow(); !ok {
		f.done(j.id) // untried: the endpoint is down
		return
	}
	if err := f.gates[endpointOf(j.lane)].wait(ctx); err != nil {
		br.release()
		f.done(j.id)
		return
	}
	r := fetchResult{job: j}
	actx, cancel := context.WithTimeout(ctx, timeout)
	var err error
	switch {
	case j.kind == "profile" && !line.IsUserID(j.target), j.kind == "content" && !isLineMessageID(j.target):
		// Never a request with a malformed ID: LINE could not answer it.
		err = &line.APIError{Status: http.StatusBadRequest, Message: "malformed ID"}
	case j.kind == "profile":
		r.profile, err = f.profiles.Profile(actx, j.target)
	default:
		r.data, r.typ, err = f.content.Content(actx, j.target)
	}
	cancel()
	if ctx.Err() != nil {
		// Shutting down: the job stays as it was and runs after the
		// restart.
		br.release()
		f.done(j.id)
		return
	}
	reachable := classifyFetch(&r, err)
	if reachable {
		if br.success() {
			f.ib.recovered(ctx, endpointOf(j.lane))
		}
	} else {
		br.failure()
	}
	if r.outcome == fetchRetry {
		r.data = nil
	}
	select {
	case f.results <- r:
	case <-ctx.Done():
		f.done(j.id)
	}
}

// classifyFetch sets r's outcome from err and reports whether LINE was
// reachable (it answered, and not with a 5xx).
func classifyFetch(r *fetchResult, err error) (reachable bool) {
	if err == nil {
		r.outcome = fetchOK
		return true
	}
	if r.job.kind == "profile" && errors.Is(err, line.ErrUnreachable) {
		r.outcome = fetchUnreachable
		return true
	}
	if errors.Is(err, line.ErrContentTooLarge) {
		r.outcome, r.reason, r.errText = fetchGone, FetchTooLarge, "too large"
		return true
	}
	var apiErr *line.APIError
	if errors.As(err, &apiErr) {
		r.errText = strconv.Itoa(apiErr.Status)
		switch {
		case apiErr.Status == http.StatusNotFound || apiErr.Status == http.StatusGone:
			r.outcome, r.reason = fetchGone, FetchExpired
			return true
		case apiErr.Status == http.StatusTooManyRequests:
			r.outcome = fetchRetry
			return true
		case apiErr.Status == http.StatusUnauthorized || apiErr.Status == http.StatusForbidden:
			// The channel's token, not this job: keep it and let the
			// breaker hold everything until LINE accepts us again.
			r.outcome = fetchRetry
			return false
		case apiErr.Status >= 500:
			r.outcome = fetchRetry
			return false
		default:
			r.outcome, r.reason = fetchGone, FetchRefused
			return true
		}
	}
	r.outcome, r.errText = fetchRetry, "no answer"
	if errors.Is(err, context.DeadlineExceeded) {
		r.errText = "timeout"
	}
	return false
}

// runWriter stores results in batched transactions until results closes.
func (f *fetcher) runWriter(ctx context.Context) {
	const maxBatch, maxBytes = 64, 64 << 20
	for r := range f.results {
		batch := []fetchResult{r}
		size := len(r.data)
	more:
		for len(batch) < maxBatch && size < maxBytes {
			select {
			case r, ok := <-f.results:
				if !ok {
					break more
				}
				batch = append(batch, r)
				size += len(r.data)
			default:
				break more
			}
		}
		// Results LINE already gave are stored even while shutting down.
		wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		changed, err := f.store(wctx, batch)
		cancel()
		for _, r := range batch {
			f.done(r.job.id)
		}
		if err != nil {
			f.ib.log.Warn("storing fetch results", "n", len(batch), "err", err)
			continue
		}
		for id := range changed {
			f.ib.notify(id)
		}
		// A job retried later, or a lane freed: let the lanes look again.
		f.ib.fetchSig.fire()
	}
}

// store writes one batch of results and returns the conversations to
// refresh.
func (f *fetcher) store(ctx context.Context, batch []fetchResult) (map[int64]bool, error) {
	now := f.ib.now().UnixMilli()
	changed := map[int64]bool{}
	err := f.ib.db.Write(ctx, func(tx *sql.Tx) error {
		clear(changed)
		for _, r := range batch {
			if err := f.storeOne(ctx, tx, r, now, changed); err != nil {
				return fmt.Errorf("%s job %d: %w", r.job.kind, r.job.id, err)
			}
		}
		return nil
	})
	return changed, err
}

func (f *fetcher) storeOne(ctx context.Context, tx *sql.Tx, r fetchResult, now int64, changed map[int64]bool) error {
	j := r.job
	switch r.outcome {
	case fetchRetry:
		next := now + f.cfg.Backoff.after(j.attempts+1).Milliseconds()
		_, err := tx.ExecContext(ctx, `UPDATE fetch_jobs SET attempts = attempts + 1, next_at = ?, last_error = ? WHERE id = ? AND status = 'pending'`,
			next, r.errText, j.id)
		return err
	case fetchGone:
		res, err := tx.ExecContext(ctx, `UPDATE fetch_jobs SET status = 'gone', reason = ?, last_error = ?, attempts = attempts + 1, finished_at = ?
			WHERE id = ? AND status = 'pending'`, r.reason, r.errText, now, j.id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 1 {
			return markChanged(ctx, tx, j, changed)
		}
		return nil
	}
	// Success or unreachable: the job ends. If it is gone (an unsend or
	// an erasure came meanwhile), nothing is stored.
	var (
		msgID sql.NullInt64
		user  sql.NullString
	)
	err := tx.QueryRowContext(ctx, `DELETE FROM fetch_jobs WHERE id = ? AND status = 'pending' RETURNING message_id, line_user_id`, j.id).
		Scan(&msgID, &user)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return err
	}
	switch {
	case j.kind == "profile" && r.outcome == fetchUnreachable:
		_, err = tx.ExecContext(ctx, `UPDATE line_users SET unreachable_at = COALESCE(unreachable_at, ?), profile_at = ? WHERE user_id = ?`,
			now, now, j.target)
	case j.kind == "profile":
		_, err = tx.ExecContext(ctx, `UPDATE line_users SET display_name = ?, picture_url = ?, profile_at = ?, unreachable_at = NULL WHERE user_id = ?`,
			r.profile.DisplayName, r.profile.PictureURL, now, j.target)
	default:
		// An unsend that arrived meanwhile wins: nothing is stored.
		_, err = tx.ExecContext(ctx, `
			INSERT INTO message_content (message_id, content_type, data, fetched_at)
			SELECT id, ?, ?, ? FROM messages WHERE id = ? AND unsent_at IS NULL
			ON CONFLICT (message_id) DO UPDATE SET content_type = excluded.content_type, data = excluded.data, fetched_at = excluded.fetched_at`,
			r.typ, r.data, now, msgID.Int64)
	}
	if err != nil {
		return err
	}
	return markChanged(ctx, tx, j, changed)
}

// markChanged notes the conversation a job belongs to.
func markChanged(ctx context.Context, tx *sql.Tx, j fetchJob, changed map[int64]bool) error {
	var (
		id  int64
		err error
	)
	if j.kind == "profile" {
		err = tx.QueryRowContext(ctx, `SELECT id FROM conversations WHERE line_user_id = ?`, j.target).Scan(&id)
	} else {
		err = tx.QueryRowContext(ctx, `SELECT m.conversation_id FROM messages m WHERE m.line_message_id = ? AND m.direction = 'in'`, j.target).Scan(&id)
	}
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return err
	}
	changed[id] = true
	return nil
}

// recovered runs when an endpoint answers again after an outage: the jobs
// (or sends) that backed off during it are due now, not minutes later.
func (ib *Inbox) recovered(ctx context.Context, endpoint string) {
	now := ib.now().UnixMilli()
	err := ib.db.Write(context.WithoutCancel(ctx), func(tx *sql.Tx) error {
		var err error
		switch endpoint {
		case string(line.EndpointProfile):
			_, err = tx.ExecContext(ctx, `UPDATE fetch_jobs SET next_at = ? WHERE status = 'pending' AND lane = 'profile' AND next_at > ?`, now, now)
		case string(line.EndpointContent):
			_, err = tx.ExecContext(ctx, `UPDATE fetch_jobs SET next_at = ? WHERE status = 'pending' AND lane <> 'profile' AND next_at > ?`, now, now)
		default:
			_, err = tx.ExecContext(ctx, `UPDATE messages SET next_send_at = NULL WHERE status = 'pending' AND direction = 'out' AND next_send_at > ?`, now)
		}
		return err
	})
	if err != nil {
		ib.log.Warn("rescheduling after an outage", "endpoint", endpoint, "err", err)
	}
	ib.fetchSig.fire()
	ib.sendSig.fire()
}

// isLineMessageID reports whether id can go into a content URL: LINE's
// message IDs are digits; the SDK does not escape them.
func isLineMessageID(id string) bool {
	if id == "" || len(id) > 100 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// sleep waits d, or until woken fires (nil: never) or ctx ends.
func sleep(ctx context.Context, d time.Duration, woken <-chan struct{}) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	case <-woken:
	}
}

// signal wakes every waiter at once (the lanes, the sender).
type signal struct {
	mu sync.Mutex
	ch chan struct{}
}

func newSignal() *signal { return &signal{ch: make(chan struct{})} }

// wait returns a channel closed by the next fire.
func (s *signal) wait() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ch
}

func (s *signal) fire() {
	s.mu.Lock()
	close(s.ch)
	s.ch = make(chan struct{})
	s.mu.Unlock()
}

// gate spaces requests to one endpoint at most rate a second (a token
// bucket of burst 1, as line's own limiter).
type gate struct {
	interval time.Duration
	mu       sync.Mutex
	next     time.Time
}

func newGate(rate float64) *gate {
	return &gate{interval: time.Duration(float64(time.Second) / rate)}
}

func (g *gate) wait(ctx context.Context) error {
	g.mu.Lock()
	now := time.Now()
	at := g.next
	if at.Before(now) {
		at = now
	}
	g.next = at.Add(g.interval)
	g.mu.Unlock()
	if d := at.Sub(now); d > 0 {
		sleep(ctx, d, nil)
	}
	return ctx.Err()
}

// FetchPending works every fetch job due now once, in its lanes, and
// returns when their results are stored: for the CLI, which does not run
// the background fetcher, and for tests. Jobs that fail temporarily stay
// queued with their backoff.
func (ib *Inbox) FetchPending(ctx context.Context) error {
	f := ib.newFetcher()
	cfg := f.cfg
	writerDone := make(chan struct{})
	go func() {
		defer close(writerDone)
		f.runWriter(ctx)
	}()
	var (
		wg   sync.WaitGroup
		errs []error
	)
	for name, lc := range cfg.Lanes {
		if name == LaneProfile && f.profiles == nil || name != LaneProfile && f.content == nil {
			continue
		}
		batch, _, err := f.due(ctx, name, 1<<20)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		sem := make(chan struct{}, lc.Workers)
		for _, j := range batch {
			sem <- struct{}{}
			wg.Go(func() {
				defer func() { <-sem }()
				f.work(ctx, j, lc.Timeout)
			})
		}
	}
	wg.Wait()
	close(f.results)
	<-writerDone
	return errors.Join(errs...)
}
