package campaign

import (
	"context"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/google/uuid"

	"tsunagu/internal/clicks"
	"tsunagu/internal/line"
)

// Expansion: the transaction that starts a send freezes the customers the
// segment matched (campaign_targets) and expands the first of them; send
// expands the rest in chunks, one transaction each, while the requests of
// the earlier chunks are in flight. A chunk's transaction resolves its
// customers' channels (consent, LINE state, addresses) and writes their
// rows together with every LINE request that became full, with its retry
// key, so a request's key and recipients are always committed before it is
// sent. Recipients of a request that is not full yet stay in memory until
// it is (or the snapshot ends); after a crash they, like every frozen
// customer without a row, are expanded again from the snapshot. The
// segment itself is never evaluated again.
//
// A customer is resolved when their chunk is expanded, within about a
// second of the start, or at the resume after a crash: consent withdrawn or
// a LINE account blocked before then is respected.

// Chunk sizes: the first chunk is expanded in the freezing transaction so
// the first requests leave right after it commits; later chunks grow to
// maxChunk so the expansion keeps ahead of LINE's multicast rate (100,000
// recipients a second) with few commits.
const (
	defaultFirstChunk = 2000
	defaultMaxChunk   = 8000
)

// packIDs encodes ascending IDs as delta uvarints (1-3 bytes per customer).
func packIDs(ids []int64) []byte {
	out := make([]byte, 0, len(ids)+16)
	prev := int64(0)
	for _, id := range ids {
		out = binary.AppendUvarint(out, uint64(id-prev))
		prev = id
	}
	return out
}

func unpackIDs(b []byte) ([]int64, error) {
	var (
		ids  []int64
		prev int64
	)
	for len(b) > 0 {
		d, n := binary.Uvarint(b)
		if n <= 0 {
			return nil, errors.New("campaign: corrupt recipient snapshot")
		}
		prev += int64(d)
		ids = append(ids, prev)
		b = b[n:]
	}
	return ids, nil
}

// expansion is the state of expanding one campaign's snapshot.
type expansion struct {
	id       int64
	content  Content
	channels []string
	personal bool
	shared   *lineGroup // the one group of unpersonalised messages

	perRequest            int     // recipients per multicast: line.MaxMulticastRecipients (tests: fewer)
	todo                  []int64 // frozen customers without a row, ascending
	seenEmail, seenMobile map[string]bool
	groups                map[string]*lineGroup // by messages JSON
	nextGroup             int

	// Tracked links (package clicks): the links to track and the relay's
	// prefix; with both, every LINE recipient gets tokens of their own
	// (minted in the chunk's transaction) and so messages of their own.
	links  *clicks.Service
	track  []string
	base   string
	minter *clicks.Minter
}

func (s *Service) newExpansion(ctx context.Context, c Campaign, ids []int64) *expansion {
	x := &expansion{id: c.ID, content: c.Content, channels: c.Channels, personal: c.Content.LinePersonalised(),
		perRequest: s.perRequest, todo: ids, seenEmail: map[string]bool{}, seenMobile: map[string]bool{}, groups: map[string]*lineGroup{}}
	if track := c.Content.TrackedLinks(); len(track) > 0 && contains(c.Channels, ChannelLine) {
		if base := s.cfg.Links.Base(ctx); base != "" {
			x.links, x.track, x.base, x.personal = s.cfg.Links, track, base, true
		}
	}
	return x
}

// tracking reports whether the expansion mints tracked links.
func (x *expansion) tracking() bool { return x.base != "" }

// loadExpansion rebuilds the expansion of a campaign whose snapshot is not
// fully expanded (nil if it is): the frozen customers without a row, the
// addresses already served (duplicates stay skipped) and the LINE groups.
func (s *Service) loadExpansion(ctx context.Context, c Campaign) (*expansion, error) {
	var (
		blob     []byte
		expanded bool
	)
	err := s.db.Reader().QueryRowContext(ctx, `SELECT customer_ids, expanded_at IS NOT NULL FROM campaign_targets WHERE campaign_id = ?`, c.ID).
		Scan(&blob, &expanded)
	if errors.Is(err, sql.ErrNoRows) || err == nil && expanded {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("campaign: load recipient snapshot: %w", err)
	}
	ids, err := unpackIDs(blob)
	if err != nil {
		return nil, err
	}
	x := s.newExpansion(ctx, c, nil)
	rows, err := s.db.Reader().QueryContext(ctx, `SELECT customer_id, channel, address FROM campaign_recipients WHERE campaign_id = ? ORDER BY customer_id`, c.ID)
	if err != nil {
		return nil, fmt.Errorf("campaign: load recipients: %w", err)
	}
	defer rows.Close()
	i := 0
	for rows.Next() {
		var (
			cid      int64
			ch, addr string
		)
		if err := rows.Scan(&cid, &ch, &addr); err != nil {
			return nil, fmt.Errorf("campaign: load recipients: %w", err)
		}
		for i < len(ids) && ids[i] < cid {
			x.todo = append(x.todo, ids[i])
			i++
		}
		if i < len(ids) && ids[i] == cid {
			i++
		}
		switch ch {
		case ChannelEmail:
			x.seenEmail[addr] = true
		case ChannelSMS:
			x.seenMobile[addr] = true
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("campaign: load recipients: %w", err)
	}
	x.todo = append(x.todo, ids[i:]...)
	grows, err := s.db.Reader().QueryContext(ctx, `SELECT group_no, messages FROM campaign_line_groups WHERE campaign_id = ?`, c.ID)
	if err != nil {
		return nil, fmt.Errorf("campaign: load LINE groups: %w", err)
	}
	defer grows.Close()
	for grows.Next() {
		g := &lineGroup{stored: true}
		if err := grows.Scan(&g.no, &g.blob); err != nil {
			return nil, fmt.Errorf("campaign: load LINE groups: %w", err)
		}
		if g.msgs, err = line.UnmarshalMessages(g.blob); err != nil {
			return nil, fmt.Errorf("campaign %d group %d: %w", c.ID, g.no, err)
		}
		x.groups[string(g.blob)] = g
		x.nextGroup = max(x.nextGroup, g.no+1)
	}
	return x, grows.Err()
}

// group returns the LINE group of a recipient's rendered messages.
func (x *expansion) group(ctx context.Context, customer int64, p Person) (*lineGroup, error) {
	if !x.personal && x.shared != nil {
		return x.shared, nil
	}
	if x.minter != nil {
		links, err := x.minter.Links(ctx, customer, x.track)
		if err != nil {
			return nil, err
		}
		p.Links = links
	}
	msgs, err := x.content.RenderLine(p)
	if err != nil {
		return nil, err
	}
	blob, err := line.MarshalMessages(msgs)
	if err != nil {
		return nil, err
	}
	g := x.groups[string(blob)]
	if g == nil {
		g = &lineGroup{no: x.nextGroup, blob: blob, msgs: msgs}
		x.nextGroup++
		x.groups[string(blob)] = g
	}
	if !x.personal {
		x.shared = g
	}
	return g, nil
}

// done reports whether every frozen customer has been resolved.
func (x *expansion) done() bool { return len(x.todo) == 0 }

// step expands the next n customers of the snapshot in tx: writes their
// rows and every LINE request that became full (with the last chunk: every
// request), and returns the requests written, to be sent once tx commits.
func (x *expansion) step(ctx context.Context, tx *sql.Tx, n int, now int64) ([]lineRequest, error) {
	chunk := x.todo[:min(n, len(x.todo))]
	final := len(chunk) == len(x.todo)
	var (
		direct []recipient // email, SMS and skipped
		lineRs []recipient // LINE, in customer order
		full   []*lineGroup
	)
	if len(chunk) > 0 && x.tracking() {
		m, err := x.links.NewMinter(ctx, tx, x.id, x.base)
		if err != nil {
			return nil, err
		}
		x.minter = m
		defer func() { m.Close(); x.minter = nil }()
	}
	if len(chunk) > 0 {
		err := scanCandidates(ctx, tx, `c.id IN (SELECT value FROM json_each(?))`, []any{idsJSON(chunk)}, x.channels, x.content, func(c candidate) {
			r := choose(c, x.channels, x.content, x.seenEmail, x.seenMobile)
			if len(r.unresolved) > 0 {
				// Checked when the send started; a value removed since
				// then skips the customer rather than leave a hole.
				r.channel, r.address, r.reason = "none", "", SkipPlaceholder
			}
			if r.channel != ChannelLine {
				direct = append(direct, r)
				return
			}
			lineRs = append(lineRs, r)
		})
		if err != nil {
			return nil, err
		}
		// Grouped once the scan's rows are closed: minting tracked links
		// writes in the same transaction.
		for _, r := range lineRs {
			g, err := x.group(ctx, r.customerID, r.person)
			if err != nil {
				return nil, err
			}
			g.users, g.ids = append(g.users, r.address), append(g.ids, r.customerID)
			if len(g.users) == x.perRequest {
				full = append(full, g)
			}
		}
	}
	w, err := newRowWriter(ctx, tx, x.id)
	if err != nil {
		return nil, err
	}
	defer w.close()
	if err := w.direct(ctx, direct); err != nil {
		return nil, err
	}
	var out []lineRequest
	flush := func(g *lineGroup) error {
		for len(g.users) > 0 && (final || len(g.users) >= x.perRequest) {
			k := min(len(g.users), x.perRequest)
			p, err := w.request(ctx, g, g.users[:k], g.ids[:k], now)
			if err != nil {
				return err
			}
			out = append(out, p)
			g.users, g.ids = g.users[k:], g.ids[k:]
		}
		return nil
	}
	for _, g := range full {
		if err := flush(g); err != nil {
			return nil, err
		}
	}
	if final {
		for _, g := range x.groupsInOrder() {
			if err := flush(g); err != nil {
				return nil, err
			}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE campaign_targets SET customer_ids = x'', expanded_at = ? WHERE campaign_id = ?`, now, x.id); err != nil {
			return nil, fmt.Errorf("campaign: finish expansion: %w", err)
		}
	}
	x.todo = x.todo[len(chunk):]
	return out, nil
}

func (x *expansion) groupsInOrder() []*lineGroup {
	out := make([]*lineGroup, x.nextGroup)
	for _, g := range x.groups {
		out[g.no] = g
	}
	n := 0
	for _, g := range out {
		if g != nil {
			out[n] = g
			n++
		}
	}
	return out[:n]
}

func idsJSON(ids []int64) string {
	b := make([]byte, 0, 8*len(ids)+2)
	b = append(b, '[')
	for i, id := range ids {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, id, 10)
	}
	return string(append(b, ']'))
}

// rowWriter writes one chunk's rows with statements prepared once.
type rowWriter struct {
	tx         *sql.Tx
	campaign   int64
	req, lines *sql.Stmt
}

func newRowWriter(ctx context.Context, tx *sql.Tx, campaign int64) (*rowWriter, error) {
	w := &rowWriter{tx: tx, campaign: campaign}
	var err error
	if w.req, err = tx.PrepareContext(ctx, `INSERT INTO campaign_line_requests (campaign_id, group_no, kind, retry_key, recipients, recipient_count, first_tried_at)
		VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`); err != nil {
		return nil, fmt.Errorf("campaign: store LINE request: %w", err)
	}
	// A LINE recipient's row only points at its request: one statement per
	// request, the customer IDs bound as one JSON array.
	if w.lines, err = tx.PrepareContext(ctx, `INSERT INTO campaign_recipients (campaign_id, customer_id, channel, status, line_request)
		SELECT ?, value, 'line', 'queued', ? FROM json_each(?)`); err != nil {
		w.close()
		return nil, fmt.Errorf("campaign: store recipients: %w", err)
	}
	return w, nil
}

func (w *rowWriter) close() {
	for _, st := range []*sql.Stmt{w.req, w.lines} {
		if st != nil {
			st.Close()
		}
	}
}

// request writes a LINE request (and its group, the first time) and its
// recipients' rows. Its first attempt is stamped now: it is sent as soon
// as the transaction commits.
func (w *rowWriter) request(ctx context.Context, g *lineGroup, users []string, ids []int64, now int64) (lineRequest, error) {
	if !g.stored {
		if _, err := w.tx.ExecContext(ctx, `INSERT INTO campaign_line_groups (campaign_id, group_no, messages) VALUES (?, ?, ?)`, w.campaign, g.no, g.blob); err != nil {
			return lineRequest{}, fmt.Errorf("campaign: store LINE group: %w", err)
		}
		g.stored = true
	}
	p := lineRequest{kind: "multicast", retryKey: uuid.NewString(), to: append([]string(nil), users...), msgs: g.msgs}
	if len(users) == 1 {
		p.kind = "push" // same quota, the larger rate limit
	}
	if err := w.req.QueryRowContext(ctx, w.campaign, g.no, p.kind, p.retryKey, strings.Join(users, "\n"), len(users), now).Scan(&p.id); err != nil {
		return lineRequest{}, fmt.Errorf("campaign: store LINE request: %w", err)
	}
	if _, err := w.lines.ExecContext(ctx, w.campaign, p.id, idsJSON(ids)); err != nil {
		return lineRequest{}, fmt.Errorf("campaign: store recipients: %w", err)
	}
	// The request's copies in the recipients' threads are written after
	// the send (threads.go): the request, committed here, is what they
	// are written from.
	return p, nil
}

// direct writes email, SMS and skipped rows, in multi-row inserts.
func (w *rowWriter) direct(ctx context.Context, rs []recipient) error {
	const perInsert = 250
	insertSQL := func(rows int) string {
		return `INSERT INTO campaign_recipients (campaign_id, customer_id, channel, skip_reason, address, status, idem_key) VALUES ` +
			strings.TrimSuffix(strings.Repeat("(?, ?, ?, ?, ?, ?, ?), ", rows), ", ")
	}
	for len(rs) > 0 {
		batch := rs[:min(perInsert, len(rs))]
		rs = rs[len(batch):]
		args := make([]any, 0, 7*len(batch))
		for _, r := range batch {
			status, key := "pending", any(nil)
			if r.channel == "none" {
				status = "skipped"
			} else {
				key = idemKey(w.campaign, r.channel, r.customerID)
			}
			args = append(args, w.campaign, r.customerID, r.channel, r.reason, r.address, status, key)
		}
		if _, err := w.tx.ExecContext(ctx, insertSQL(len(batch)), args...); err != nil {
			return fmt.Errorf("campaign: store recipients: %w", err)
		}
	}
	return nil
}

// expand expands the rest of x in chunks, handing each chunk's requests to
// send after its commit. It stops, leaving the rest for the next run, when
// the run is paused, ctx ends or send refuses (returns false).
func (s *Service) expand(ctx context.Context, r *run, x *expansion, send func(lineRequest) bool) error {
	n := s.firstChunk
	for !x.done() {
		if r.stopped() || s.checkPaused(ctx, x.id, r) {
			return errPaused
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		n = min(2*n, s.maxChunk)
		var reqs []lineRequest
		err := s.db.Write(ctx, func(tx *sql.Tx) error {
			var err error
			reqs, err = x.step(ctx, tx, n, s.now().UnixMilli())
			return err
		})
		if err != nil {
			return fmt.Errorf("campaign %d: expand recipients: %w", x.id, err)
		}
		if !x.done() {
			s.fail(FailExpanding)
		}
		// The chunk's tracked links reach the relay before any message
		// carrying them is sent.
		if err := s.publishLinks(ctx, x.id); err != nil {
			return err
		}
		for _, p := range reqs {
			if !send(p) {
				return nil
			}
		}
	}
	return nil
}

// publishLinks puts the campaign's tracked links not yet on the relay
// there (nothing to do without tracked links: one indexed query).
func (s *Service) publishLinks(ctx context.Context, id int64) error {
	if s.cfg.Links == nil {
		return nil
	}
	if err := s.cfg.Links.Publish(ctx, id); err != nil {
		return fmt.Errorf("campaign %d: %w", id, err)
	}
	return nil
}
