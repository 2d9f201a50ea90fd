package campaign

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"tsunagu/internal/audit"
	"tsunagu/internal/insights"
	"tsunagu/internal/line"
	"tsunagu/internal/segment"
	"tsunagu/internal/sms"
)

// Skip reasons.
const (
	SkipNoConsent = "no_consent" // has a way to be reached, but no consent for it
	SkipBlocked   = "blocked"    // on LINE only, and blocked the account (or LINE reports them unreachable)
	SkipNoContact = "no_contact" // no LINE link, email or mobile for the campaign's channels
	SkipInactive  = "inactive"   // the customer record is inactive
	SkipDuplicate = "duplicate"  // the address is shared with a customer already served (a family email)
	// The customer has an email address / mobile number, but the campaign
	// does not send by email / SMS: "no contact" would be untrue.
	SkipEmailOff = "email_off"
	SkipSMSOff   = "sms_off"
	// A placeholder has no value for the customer and the campaign's rule
	// for it is to skip them.
	SkipPlaceholder = "placeholder"
)

// SkipReasons lists the reasons in report order.
var SkipReasons = []string{SkipNoConsent, SkipBlocked, SkipNoContact, SkipEmailOff, SkipSMSOff, SkipPlaceholder, SkipInactive, SkipDuplicate}

// PlaceholderGap is how many of a campaign's recipients have no value for
// a placeholder their message uses, and what the campaign does about it
// ("" : nothing yet, so it cannot be approved or sent).
type PlaceholderGap struct {
	Token   string `json:"token"`
	Missing int    `json:"missing"`
	Action  string `json:"action"`
}

// Plan is who a campaign reaches on which channel, and who it skips.
type Plan struct {
	Matched      int            `json:"matched"`
	Line         int            `json:"line"`
	Email        int            `json:"email"`
	SMS          int            `json:"sms"`
	Skipped      map[string]int `json:"skipped"`
	LineGroups   int            `json:"lineGroups"`   // distinct personalised contents
	LineRequests int            `json:"lineRequests"` // pushes and multicasts
	QuotaNeed    int64          `json:"quotaNeed"`    // LINE messages this campaign uses
	QuotaChecked bool           `json:"quotaChecked"` // QuotaLeft/QuotaLimit are known
	QuotaLimited bool           `json:"quotaLimited"`
	QuotaLeft    int64          `json:"quotaLeft"`
	QuotaLimit   int64          `json:"quotaLimit"`
	QuotaError   string         `json:"quotaError"` // why the quota could not be read
	// Gaps: per placeholder the chosen channels use, the recipients without
	// a value for it; Unresolved: recipients a gap without a rule leaves
	// with a hole (the campaign cannot be approved or sent while > 0).
	Gaps       []PlaceholderGap `json:"gaps"`
	Unresolved int              `json:"unresolved"`
}

// candidate is one customer the rules matched, with what reaching them needs.
type candidate struct {
	id                      int64
	person                  Person
	active                  bool
	lineUser                string
	linked, reachable       bool
	consentLine, consentEml bool
	consentSMS              bool
	hasEmail, hasMobile     bool // whatever the channels: for the true skip reason
	email, mobile           string
}

// recipient is a candidate's outcome: a channel and address, or a skip reason.
type recipient struct {
	customerID int64
	person     Person
	channel    string // line, email, sms, none
	address    string
	reason     string
	lacks      []string // placeholders of the channel's content the person has no value for
	unresolved []string // of lacks, those no rule covers: this recipient must not be sent to
}

// resolve evaluates the campaign's rules and chooses each customer's
// channel. Consent is required here for every channel, whatever the rules.
func (s *Service) resolve(ctx context.Context, q queryer, rules segment.Node, channels []string, content Content) ([]recipient, error) {
	cq, err := s.segs.Compiler().Compile(rules)
	if err != nil {
		return nil, err
	}
	var out []recipient
	seenEmail, seenMobile := map[string]bool{}, map[string]bool{}
	err = scanCandidates(ctx, q, cq.Where, cq.Args, channels, content, func(c candidate) {
		out = append(out, choose(c, channels, content, seenEmail, seenMobile))
	})
	return out, err
}

// Bits of scanCandidates' flags column.
const (
	flagActive = 1 << iota
	flagLinked
	flagReachable
	flagConsentLine
	flagConsentEmail
	flagConsentSMS
	flagHasEmail
	flagHasMobile
)

// scanCandidates reads, in customer ID order, what choosing a channel needs
// for the customers where (an expression over customers c) selects. Only
// what the campaign's channels and content use is read, and the yes/no
// facts come as one integer: reading fewer columns is most of what
// resolving 100,000 customers costs outside SQLite.
func scanCandidates(ctx context.Context, q queryer, where string, args []any, channels []string, content Content, fn func(candidate)) error {
	uses := map[string]bool{}
	for _, ch := range channels {
		uses[ch] = true
	}
	// SQLite's | and << bind equally, left to right: each term is bracketed.
	flags := "(c.status = 'active') | ((l.customer_id IS NOT NULL) << 1) | (coalesce(u.follow_state = 'following' AND u.unreachable_at IS NULL, 0) << 2)"
	for i, ch := range []string{ChannelLine, ChannelEmail, ChannelSMS} {
		if uses[ch] {
			flags += " | (" + segment.ConsentExpr("c", ch) + " << " + strconv.Itoa(3+i) + ")"
		}
	}
	// Whether there is an address for a channel the campaign does not use:
	// only to say why such a customer is skipped.
	if !uses[ChannelEmail] {
		flags += " | ((" + segment.EmailExpr("c") + " != '') << 6)"
	}
	if !uses[ChannelSMS] {
		flags += " | ((" + segment.MobileExpr("c") + " != '') << 7)"
	}
	cols := "c.id, " + flags + ", coalesce(l.line_user_id, '')"
	// Email and mobile only for their channels; names only when a chosen
	// channel's content uses placeholders (to check each has a value).
	if uses[ChannelEmail] {
		cols += ", " + segment.EmailExpr("c")
	}
	if uses[ChannelSMS] {
		cols += ", " + segment.MobileExpr("c")
	}
	person := false
	for _, ch := range channels {
		person = person || len(content.Tokens(ch)) > 0
	}
	if person {
		cols += ", c.name, c.branch, c.staff_in_charge"
	}
	rows, err := q.QueryContext(ctx, `SELECT `+cols+`
		FROM customers c
		LEFT JOIN customer_line_links l ON l.customer_id = c.id
		LEFT JOIN line_users u ON u.user_id = l.line_user_id
		WHERE `+where+` ORDER BY c.id`, args...)
	if err != nil {
		return fmt.Errorf("campaign: resolve recipients: %w", err)
	}
	defer rows.Close()
	var (
		c    candidate
		bits int64
	)
	dest := []any{&c.id, &bits, &c.lineUser}
	if uses[ChannelEmail] {
		dest = append(dest, &c.email)
	}
	if uses[ChannelSMS] {
		dest = append(dest, &c.mobile)
	}
	if person {
		dest = append(dest, &c.person.Name, &c.person.Branch, &c.person.Staff)
	}
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return fmt.Errorf("campaign: resolve recipients: %w", err)
		}
		c.active, c.linked, c.reachable = bits&flagActive != 0, bits&flagLinked != 0, bits&flagReachable != 0
		c.consentLine, c.consentEml, c.consentSMS = bits&flagConsentLine != 0, bits&flagConsentEmail != 0, bits&flagConsentSMS != 0
		c.hasEmail = bits&flagHasEmail != 0 || c.email != ""
		c.hasMobile = bits&flagHasMobile != 0 || c.mobile != ""
		fn(c)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("campaign: resolve recipients: %w", err)
	}
	return nil
}

type queryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// choose picks the first channel in order that reaches c with consent
// and whose content c has every placeholder's value for (or a rule other
// than skipping covers it). A recipient chosen with an uncovered
// placeholder carries it in unresolved: the plan counts them, and a send
// refuses or skips them; nothing goes out with a hole.
func choose(c candidate, channels []string, content Content, seenEmail, seenMobile map[string]bool) recipient {
	r := recipient{customerID: c.id, person: c.person, channel: "none"}
	if !c.active {
		r.reason = SkipInactive
		return r
	}
	var noConsent, blocked, duplicate, placeholder bool
	take := func(ch, address string) bool {
		lacks := content.Lacking(ch, c.person)
		if len(lacks) > 0 {
			r.lacks = lacks
			skip, open := content.SkipsFor(lacks)
			if skip {
				placeholder = true
				return false
			}
			r.unresolved = open
		}
		r.channel, r.address = ch, address
		return true
	}
	for _, ch := range channels {
		switch ch {
		case ChannelLine:
			switch {
			case !c.linked || c.lineUser == "":
			case !c.reachable:
				blocked = true
			case !c.consentLine:
				noConsent = true
			default:
				if take(ChannelLine, c.lineUser) {
					return r
				}
			}
		case ChannelEmail:
			email := strings.ToLower(strings.TrimSpace(c.email))
			switch {
			case email == "":
			case !c.consentEml:
				noConsent = true
			case seenEmail[email]:
				duplicate = true
			default:
				if take(ChannelEmail, email) {
					seenEmail[email] = true
					return r
				}
			}
		case ChannelSMS:
			e164, err := sms.E164(c.mobile)
			switch {
			case c.mobile == "" || err != nil:
			case !c.consentSMS:
				noConsent = true
			case seenMobile[e164]:
				duplicate = true
			default:
				if take(ChannelSMS, e164) {
					seenMobile[e164] = true
					return r
				}
			}
		}
	}
	chosen := func(ch string) bool {
		for _, x := range channels {
			if x == ch {
				return true
			}
		}
		return false
	}
	switch {
	case placeholder:
		r.reason = SkipPlaceholder
	case duplicate:
		r.reason = SkipDuplicate
	case noConsent:
		r.reason = SkipNoConsent
	case blocked:
		r.reason = SkipBlocked
	case c.hasEmail && !chosen(ChannelEmail):
		r.reason = SkipEmailOff
	case c.hasMobile && !chosen(ChannelSMS):
		r.reason = SkipSMSOff
	default:
		r.reason = SkipNoContact
	}
	return r
}

// lineGroup is recipients with identical personalised LINE messages.
type lineGroup struct {
	no     int    // group_no (expansion)
	blob   []byte // msgs as stored and sent
	stored bool   // its campaign_line_groups row is written
	msgs   []line.Message
	users  []string
	ids    []int64 // customer IDs, same order as users
}

// groupLine renders each LINE recipient's messages and groups identical ones.
func groupLine(content Content, rs []recipient) ([]*lineGroup, error) {
	var groups []*lineGroup
	byKey := map[string]*lineGroup{}
	personal := content.LinePersonalised()
	var shared []line.Message
	for _, r := range rs {
		// A recipient with an uncovered placeholder is never rendered.
		if r.channel != ChannelLine || len(r.unresolved) > 0 {
			continue
		}
		msgs, key := shared, ""
		switch {
		case personal:
			var err error
			if msgs, err = content.RenderLine(r.person); err != nil {
				return nil, err
			}
			blob, _ := line.MarshalMessages(msgs)
			key = string(blob)
		case shared == nil:
			var err error
			if shared, err = content.RenderLine(Person{}); err != nil {
				return nil, err
			}
			msgs = shared
		}
		g := byKey[key]
		if g == nil {
			g = &lineGroup{msgs: msgs}
			byKey[key] = g
			groups = append(groups, g)
		}
		g.users = append(g.users, r.address)
		g.ids = append(g.ids, r.customerID)
	}
	return groups, nil
}

func requestCount(groups []*lineGroup) (n int, cost int64) {
	for _, g := range groups {
		n += (len(g.users) + line.MaxMulticastRecipients - 1) / line.MaxMulticastRecipients
		cost += int64(len(g.users)) * int64(len(g.msgs))
	}
	return n, cost
}

// PlanDraft computes the plan of an unsaved draft (the editor's live plan).
func (s *Service) PlanDraft(ctx context.Context, d Draft) (Plan, error) {
	if err := d.normalise(); err != nil {
		return Plan{}, err
	}
	return s.plan(ctx, d.Rules, d.Content, d.Channels)
}

// Plan computes a campaign's plan: from its recipients once it started
// sending, from the rules before.
func (s *Service) Plan(ctx context.Context, id int64) (Plan, error) {
	c, err := s.Get(ctx, id)
	if err != nil {
		return Plan{}, err
	}
	if c.Status == StatusSending || c.Status == StatusPaused || c.Status == StatusDone {
		return s.storedPlan(ctx, id)
	}
	return s.plan(ctx, c.Rules, c.Content, c.Channels)
}

func (s *Service) plan(ctx context.Context, rules segment.Node, content Content, channels []string) (Plan, error) {
	rs, err := s.resolve(ctx, s.db.Reader(), rules, channels, content)
	if err != nil {
		return Plan{}, err
	}
	p := Plan{Matched: len(rs), Skipped: map[string]int{}}
	p.Gaps, p.Unresolved = gaps(content, channels, rs)
	for _, r := range rs {
		switch r.channel {
		case ChannelLine:
			p.Line++
		case ChannelEmail:
			p.Email++
		case ChannelSMS:
			p.SMS++
		default:
			p.Skipped[r.reason]++
		}
	}
	if p.Line > 0 {
		groups, err := groupLine(content, rs)
		if err != nil {
			return Plan{}, err
		}
		p.LineGroups = len(groups)
		p.LineRequests, p.QuotaNeed = requestCount(groups)
		// A recipient with a hole is not rendered, but counts: once the
		// campaign says what they get, they get every message.
		for _, r := range rs {
			if r.channel == ChannelLine && len(r.unresolved) > 0 {
				p.QuotaNeed += int64(len(content.Line))
			}
		}
		s.quota(ctx, &p)
	}
	return p, nil
}

// gaps counts, per placeholder the channels' content uses, the recipients
// without its value, and the recipients an uncovered one would leave with
// a hole.
func gaps(content Content, channels []string, rs []recipient) ([]PlaceholderGap, int) {
	used := map[string]bool{}
	for _, ch := range channels {
		for _, tok := range content.Tokens(ch) {
			used[tok] = true
		}
	}
	missing := map[string]int{}
	unresolved := 0
	for _, r := range rs {
		for _, tok := range r.lacks {
			missing[tok]++
		}
		if len(r.unresolved) > 0 {
			unresolved++
		}
	}
	out := []PlaceholderGap{}
	for _, tok := range Placeholders {
		if used[tok] {
			out = append(out, PlaceholderGap{Token: tok, Missing: missing[tok], Action: content.Missing[tok].Action})
		}
	}
	return out, unresolved
}

// checkPlaceholders resolves every recipient of rules (in q: the approval's
// or the send's transaction) and refuses with a *PlaceholderError when a
// placeholder would leave some of them with a hole. It reads nothing when
// the content's rules cover every placeholder it uses.
func (s *Service) checkPlaceholders(ctx context.Context, q queryer, rules segment.Node, channels []string, content Content) error {
	open := map[string]bool{}
	for _, ch := range channels {
		_, un := content.SkipsFor(content.Tokens(ch))
		for _, tok := range un {
			open[tok] = true
		}
	}
	if len(open) == 0 {
		return nil
	}
	// The usual case, everyone has every value, costs one count: only when
	// some matched customer lacks one are the recipients resolved exactly
	// (which of them a channel using it would reach).
	cq, err := s.segs.Compiler().Compile(rules)
	if err != nil {
		return err
	}
	var blank []string
	for _, tok := range Placeholders {
		if open[tok] {
			blank = append(blank, blankExpr(tok))
		}
	}
	var some bool
	if err := q.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM customers c WHERE (`+cq.Where+`) AND (`+strings.Join(blank, " OR ")+`))`, cq.Args...).Scan(&some); err != nil {
		return fmt.Errorf("campaign: check placeholders: %w", err)
	}
	if !some {
		return nil
	}
	rs, err := s.resolve(ctx, q, rules, channels, content)
	if err != nil {
		return err
	}
	g, n := gaps(content, channels, rs)
	if n == 0 {
		return nil
	}
	pe := &PlaceholderError{}
	for _, x := range g {
		if x.Missing > 0 && x.Action == "" {
			pe.Gaps = append(pe.Gaps, x)
		}
	}
	return pe
}

// blankExpr is "customer c has no value for token" in SQL: blank after
// trimming spaces, tabs, line breaks and the full-width space (as
// Person.value trims; the renderer stays the final check either way).
func blankExpr(token string) string {
	col := map[string]string{"{氏名}": "c.name", "{支店}": "c.branch", "{担当者}": "c.staff_in_charge"}[token]
	return "trim(" + col + ", ' ' || char(9, 10, 13, 12288)) = ''"
}

// quota fills in the monthly quota numbers, if LINE can be asked.
func (s *Service) quota(ctx context.Context, p *Plan) {
	if s.cfg.Quota == nil {
		return
	}
	q, err := s.cfg.Quota.Quota(ctx)
	if err != nil {
		p.QuotaError = err.Error()
		return
	}
	p.QuotaChecked, p.QuotaLimited = true, q.Limited
	if !q.Limited {
		return
	}
	used, err := s.cfg.Quota.QuotaConsumption(ctx)
	if err != nil {
		p.QuotaChecked, p.QuotaError = false, err.Error()
		return
	}
	p.QuotaLimit = q.Limit
	p.QuotaLeft, _ = q.Remaining(used)
}

func (s *Service) storedPlan(ctx context.Context, id int64) (Plan, error) {
	p := Plan{Skipped: map[string]int{}}
	rows, err := s.db.Reader().QueryContext(ctx, `SELECT channel, skip_reason, count(*) FROM campaign_recipients WHERE campaign_id = ? GROUP BY 1, 2`, id)
	if err != nil {
		return p, fmt.Errorf("campaign: plan: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			ch, reason string
			n          int
		)
		if err := rows.Scan(&ch, &reason, &n); err != nil {
			return p, err
		}
		p.Matched += n
		switch ch {
		case ChannelLine:
			p.Line += n
		case ChannelEmail:
			p.Email += n
		case ChannelSMS:
			p.SMS += n
		default:
			p.Skipped[reason] += n
		}
	}
	if err := rows.Err(); err != nil {
		return p, err
	}
	if p.Matched, err = s.matched(ctx, id, p.Matched); err != nil {
		return p, err
	}
	err = s.db.Reader().QueryRowContext(ctx, `SELECT count(DISTINCT group_no), count(*), coalesce(sum(recipient_count), 0) FROM campaign_line_requests WHERE campaign_id = ?`, id).
		Scan(&p.LineGroups, &p.LineRequests, &p.QuotaNeed)
	if err != nil {
		return p, fmt.Errorf("campaign: plan: %w", err)
	}
	// QuotaNeed counted recipients; each gets every message of its group.
	var msgs int64
	if err := s.db.Reader().QueryRowContext(ctx, `
		SELECT coalesce(sum(r.recipient_count * json_array_length(g.messages)), 0) FROM campaign_line_requests r
		JOIN campaign_line_groups g ON g.campaign_id = r.campaign_id AND g.group_no = r.group_no WHERE r.campaign_id = ?`, id).Scan(&msgs); err == nil {
		p.QuotaNeed = msgs
	}
	return p, nil
}

// matched is how many customers a sending campaign's segment matched: the
// rows written (withRows), or the snapshot's size while it is expanded.
func (s *Service) matched(ctx context.Context, id int64, withRows int) (int, error) {
	var total int
	err := s.db.Reader().QueryRowContext(ctx, `SELECT total FROM campaign_targets WHERE campaign_id = ? AND expanded_at IS NULL`, id).Scan(&total)
	if errors.Is(err, sql.ErrNoRows) {
		return withRows, nil
	}
	if err != nil {
		return 0, fmt.Errorf("campaign: recipient snapshot: %w", err)
	}
	return max(total, withRows), nil
}

// materialise starts a send. After the approval is checked, ONE
// transaction freezes the customers the segment matches (campaign_targets),
// expands the first of them into their rows and the LINE requests that carry
// them, each with its retry key, and marks the campaign sending; send
// expands the rest in chunks while those requests are in flight (expand.go).
//
// A campaign is refused before anything is written when it does not fit the
// LINE monthly quota or needs a channel that is not set up. Both are decided
// on the upper bound first (every matched customer on LINE; any channel the
// campaign lists), and only when that bound fails on the exact plan, which
// resolves every matched customer in the same transaction.
func (s *Service) materialise(ctx context.Context, actor string, id int64) error {
	c, err := s.Get(ctx, id)
	if err != nil {
		return err
	}
	if !c.Approved() {
		return ErrNotApproved
	}
	uses := map[string]bool{}
	for _, ch := range c.Channels {
		uses[ch] = true
	}
	if uses[ChannelLine] && s.cfg.Line == nil {
		return ErrOffline
	}
	cq, err := s.segs.Compiler().Compile(c.Rules)
	if err != nil {
		return err
	}
	// The quota is read while the segment is evaluated.
	var quota chan Plan
	if uses[ChannelLine] && s.cfg.Quota != nil {
		quota = make(chan Plan, 1)
		go func() {
			var p Plan
			s.quota(ctx, &p)
			quota <- p
		}()
	}
	missing := s.missingSetup(ctx, c.Channels)
	now := s.now().UnixMilli()
	return s.db.Write(ctx, func(tx *sql.Tx) error {
		// The status is checked again inside the transaction: two staff
		// pressing "send" start one run.
		cur, err := getCampaign(ctx, tx, id)
		if err != nil {
			return err
		}
		if cur.Version != c.Version || !cur.Approved() || cur.Status != StatusApproved && cur.Status != StatusScheduled {
			return fmt.Errorf("send: %w", ErrState)
		}
		ids, err := segmentIDs(ctx, tx, cq)
		if err != nil {
			return err
		}
		// Data may have changed since the approval (a customer lost their
		// staff in charge): the placeholders are checked again, on the
		// customers being frozen.
		if err := s.checkPlaceholders(ctx, tx, c.Rules, c.Channels, c.Content); err != nil {
			return err
		}
		var q Plan
		if quota != nil {
			q = <-quota
		}
		bound := int64(len(ids)) * int64(len(c.Content.Line))
		if len(missing) > 0 || q.QuotaError != "" && bound > 0 || q.QuotaChecked && q.QuotaLimited && bound > q.QuotaLeft {
			if err := s.checkExact(ctx, tx, c, cq, missing, q); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO campaign_targets (campaign_id, customer_ids, total) VALUES (?, ?, ?)`,
			id, packIDs(ids), len(ids)); err != nil {
			return fmt.Errorf("campaign: freeze recipients: %w", err)
		}
		if uses[ChannelLine] {
			// LINE counts the campaign's opens and clicks under one unit,
			// stored before the first request is (none past the month's
			// limit: the campaign is sent without LINE statistics).
			if _, err := insights.Assign(ctx, tx, insights.Campaign(id), time.UnixMilli(now)); err != nil {
				return err
			}
		}
		x := s.newExpansion(ctx, c, ids)
		if _, err := x.step(ctx, tx, s.firstChunk, now); err != nil {
			return err
		}
		detail := map[string]string{"matched": strconv.Itoa(len(ids)), "version": strconv.Itoa(c.Version)}
		if x.tracking() {
			// Tracked links are created with the send: how many links
			// each recipient gets a token for.
			detail["trackedLinks"] = strconv.Itoa(len(x.track))
		}
		if _, err := tx.ExecContext(ctx, `UPDATE campaigns SET status = 'sending', started_at = ?, error = '', updated_at = ? WHERE id = ?`, now, now, id); err != nil {
			return err
		}
		_, err = audit.Record(ctx, tx, audit.Entry{At: now, Actor: actor, Action: ActionSend, Target: target(id), Detail: detail})
		return err
	})
}

// segmentIDs evaluates the segment: the matching customers' IDs, ascending.
func segmentIDs(ctx context.Context, tx *sql.Tx, cq segment.Query) ([]int64, error) {
	rows, err := tx.QueryContext(ctx, `SELECT c.id FROM customers c WHERE `+cq.Where+` ORDER BY c.id`, cq.Args...)
	if err != nil {
		return nil, fmt.Errorf("campaign: evaluate segment: %w", err)
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("campaign: evaluate segment: %w", err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("campaign: evaluate segment: %w", err)
	}
	return ids, nil
}

// checkExact resolves every matched customer (in tx, the snapshot being
// frozen) and refuses the campaign if a recipient needs a channel that is
// not set up, or the LINE messages do not fit the quota.
func (s *Service) checkExact(ctx context.Context, tx *sql.Tx, c Campaign, cq segment.Query, missing map[string]error, q Plan) error {
	n := map[string]int{}
	seenEmail, seenMobile := map[string]bool{}, map[string]bool{}
	err := scanCandidates(ctx, tx, cq.Where, cq.Args, c.Channels, c.Content, func(cand candidate) {
		n[choose(cand, c.Channels, c.Content, seenEmail, seenMobile).channel]++
	})
	if err != nil {
		return err
	}
	for _, ch := range []string{ChannelEmail, ChannelSMS} {
		if n[ch] > 0 && missing[ch] != nil {
			return missing[ch]
		}
	}
	cost := int64(n[ChannelLine]) * int64(len(c.Content.Line))
	if cost == 0 {
		return nil
	}
	if q.QuotaError != "" {
		return fmt.Errorf("campaign: LINE quota: %s", q.QuotaError)
	}
	if q.QuotaChecked && q.QuotaLimited && cost > q.QuotaLeft {
		return &QuotaError{Need: cost, Left: q.QuotaLeft, Limit: q.QuotaLimit}
	}
	return nil
}

// idemKey is an email/SMS recipient's idempotency key: one per campaign,
// channel and customer, so the same customer can never get a second key.
func idemKey(campaignID int64, channel string, customerID int64) string {
	return fmt.Sprintf("campaign-%d-%s-%d", campaignID, channel, customerID)
}

// missingSetup returns, for each of channels that is not set up (email,
// SMS), why; such a channel refuses the campaign only if a recipient needs it.
func (s *Service) missingSetup(ctx context.Context, channels []string) map[string]error {
	out := map[string]error{}
	for _, ch := range channels {
		switch ch {
		case ChannelEmail:
			if s.cfg.Mailer == nil {
				out[ch] = ErrNoMailer
			} else if _, err := s.cfg.Mailer(ctx); err != nil {
				out[ch] = errors.Join(ErrNoMailer, err)
			}
		case ChannelSMS:
			if s.cfg.SMS == nil {
				out[ch] = ErrNoSMS
			} else if _, err := s.cfg.SMS(ctx); err != nil {
				out[ch] = errors.Join(ErrNoSMS, err)
			}
		}
	}
	return out
}

// sortedKeys is for stable report output.
func sortedKeys(m map[string]int) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// ChannelSetup says which channels can send now: the editor ticks those by
// default and shows the others disabled, with the way to their settings.
type ChannelSetup struct {
	Line  bool `json:"line"`
	Email bool `json:"email"`
	SMS   bool `json:"sms"`
}

// Setup reports which channels are set up.
func (s *Service) Setup(ctx context.Context) ChannelSetup {
	missing := s.missingSetup(ctx, []string{ChannelEmail, ChannelSMS})
	return ChannelSetup{Line: s.cfg.Line != nil, Email: missing[ChannelEmail] == nil, SMS: missing[ChannelSMS] == nil}
}
