package automation

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"tsunagu/internal/campaign"
	"tsunagu/internal/segment"
	"tsunagu/internal/sms"
)

// day is a local calendar date.
type day struct {
	y int
	m time.Month
	d int
}

func civil(t time.Time) day { y, m, d := t.Date(); return day{y, m, d} }

func (d day) time(loc *time.Location) time.Time { return time.Date(d.y, d.m, d.d, 0, 0, 0, 0, loc) }

func (d day) add(n int) day { return civil(time.Date(d.y, d.m, d.d+n, 12, 0, 0, 0, time.UTC)) }

func (d day) String() string { return fmt.Sprintf("%04d-%02d-%02d", d.y, int(d.m), d.d) }

func (d day) before(o day) bool { return d.String() < o.String() }

func parseDay(s string) (day, bool) {
	t, err := time.Parse("2006-01-02", s)
	if err != nil {
		return day{}, false
	}
	return civil(t), true
}

func isLeap(y int) bool { return y%4 == 0 && (y%100 != 0 || y%400 == 0) }

// monthDays are the 'MM-DD' values a yearly date matches on d: in a year
// without 29 February, a 29 February date is kept on the 28th (the day
// Japanese practice counts as its anniversary).
func monthDays(d day) []string {
	md := fmt.Sprintf("%02d-%02d", int(d.m), d.d)
	if d.m == time.February && d.d == 28 && !isLeap(d.y) {
		return []string{md, "02-29"}
	}
	return []string{md}
}

// clock parses HH:MM (validated on save).
func clockOf(hm string) (int, int) {
	h, _ := strconv.Atoi(hm[:2])
	m, _ := strconv.Atoi(hm[3:])
	return h, m
}

// sendTime is when the rule sends on local day d.
func (r Rule) sendTime(d day, loc *time.Location) time.Time {
	h, m := 9, 0
	if hhmm.MatchString(r.Spec.At) {
		h, m = clockOf(r.Spec.At)
	}
	return time.Date(d.y, d.m, d.d, h, m, 0, 0, loc)
}

// targetOf is the date field's value whose occurrence is sent on d.
func (r Rule) targetOf(d day) day { return d.add(-r.Spec.OffsetDays) }

// idemKey is the occurrence's idempotency key.
func idemKey(ruleID, customerID int64, occurs string) string {
	return "auto:" + strconv.FormatInt(ruleID, 10) + ":" + strconv.FormatInt(customerID, 10) + ":" + occurs
}

// Skip reasons.
const (
	SkipLate       = "late"        // the app was closed past the rule's lateness
	SkipDatePassed = "date_passed" // a reminder before a date that has passed
	SkipInactive   = "inactive"
	SkipNoConsent  = "no_consent"
	SkipBlocked    = "blocked"
	SkipNoContact  = "no_contact"
	SkipStopped    = "stopped" // the rule was paused or edited before the claim
	// A placeholder the message uses has no value for the customer (no
	// staff in charge for {担当者}, say): campaign's one rule, no hole.
	SkipPlaceholder = "placeholder"
)

// due is one customer's occurrence on a day, with the channel that reaches
// them (consent enforced per channel) or the reason none does.
type due struct {
	customerID int64
	channel    string // line, email, sms or none
	address    string // LINE user ID, email or E.164 number
	reason     string
	person     campaign.Person
}

const (
	flagActive = 1 << iota
	flagLinked
	flagReachable
	flagConsentLine
	flagConsentEmail
	flagConsentSMS
)

// candidates is the SQL selecting the customers whose field falls on
// target, as "c.id IN (...)" or a condition on c, and its arguments.
func (r Rule) candidates(target day) (string, []any) {
	typeCond, typeArgs := "", []any{}
	if r.Spec.ProductType != "" {
		typeCond, typeArgs = " AND p.type = ?", []any{r.Spec.ProductType}
	}
	switch r.Spec.Field {
	case FieldMaturity:
		// products_by_maturity (partial index on matures_on <> '').
		return `c.id IN (SELECT p.customer_id FROM products p WHERE p.matures_on = ? AND p.matures_on <> '' AND p.status = 'active'` + typeCond + `)`,
			append([]any{target.String()}, typeArgs...)
	case FieldAnniversary:
		mds := monthDays(target)
		args := []any{}
		for _, md := range mds {
			args = append(args, md)
		}
		args = append(args, target.String())
		// products_by_anniversary; a contract opened this year has none yet.
		return `c.id IN (SELECT p.customer_id FROM products p WHERE substr(p.opened_on, 6) IN (` + marks(len(mds)) + `)
			AND p.opened_on <> '' AND p.status = 'active' AND p.opened_on < ?` + typeCond + `)`, append(args, typeArgs...)
	default: // birthday; customers_by_birthday
		mds := monthDays(target)
		args := []any{}
		for _, md := range mds {
			args = append(args, md)
		}
		args = append(args, target.String())
		return `substr(c.birth_date, 6) IN (` + marks(len(mds)) + `) AND c.birth_date <> '' AND c.birth_date < ?`, args
	}
}

func marks(n int) string { return strings.TrimSuffix(strings.Repeat("?,", n), ",") }

// decide lists the customers of rule r due on local day d that have no
// occurrence yet, with their channel. It is the whole per-day decision: one
// indexed query per rule.
func (s *Service) decide(ctx context.Context, r Rule, d day, fn func(due)) error {
	seg, err := s.segs.Compiler().Compile(r.Spec.Rules)
	if err != nil {
		return err
	}
	target := r.targetOf(d)
	cand, cargs := r.candidates(target)
	uses := map[string]bool{}
	for _, ch := range r.Spec.Channels {
		uses[ch] = true
	}
	flags := "(c.status = 'active') | ((l.customer_id IS NOT NULL) << 1) | (coalesce(u.follow_state = 'following' AND u.unreachable_at IS NULL, 0) << 2)"
	for i, ch := range []string{campaign.ChannelLine, campaign.ChannelEmail, campaign.ChannelSMS} {
		if uses[ch] {
			flags += " | (" + segment.ConsentExpr("c", ch) + " << " + strconv.Itoa(3+i) + ")"
		}
	}
	email, mobile := "''", "''"
	if uses[campaign.ChannelEmail] {
		email = segment.EmailExpr("c")
	}
	if uses[campaign.ChannelSMS] {
		mobile = segment.MobileExpr("c")
	}
	args := append(append([]any{}, cargs...), seg.Args...)
	args = append(args, "auto:"+strconv.FormatInt(r.ID, 10)+":", ":"+target.String())
	rows, err := s.db.Reader().QueryContext(ctx, `SELECT c.id, `+flags+`, coalesce(l.line_user_id, ''), `+email+`, `+mobile+`,
		c.name, c.branch, c.staff_in_charge
		FROM customers c
		LEFT JOIN customer_line_links l ON l.customer_id = c.id
		LEFT JOIN line_users u ON u.user_id = l.line_user_id
		WHERE `+cand+` AND (`+seg.Where+`)
		  AND NOT EXISTS (SELECT 1 FROM automation_occurrences o WHERE o.idem_key = ? || c.id || ?)
		ORDER BY c.id`, args...)
	if err != nil {
		return fmt.Errorf("automation %d: decide %s: %w", r.ID, d, err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			id                  int64
			bits                int64
			lineUser, em, mob   string
			name, branch, staff string
		)
		if err := rows.Scan(&id, &bits, &lineUser, &em, &mob, &name, &branch, &staff); err != nil {
			return fmt.Errorf("automation %d: decide: %w", r.ID, err)
		}
		dd := choose(id, bits, lineUser, em, mob, r.Spec.Channels)
		dd.person = campaign.Person{Name: name, Branch: branch, Staff: staff}
		if dd.channel != "none" {
			if skip, open := r.Spec.Content.SkipsFor(r.Spec.Content.Lacking(dd.channel, dd.person)); skip || len(open) > 0 {
				dd.channel, dd.address, dd.reason = "none", "", SkipPlaceholder
			}
		}
		fn(dd)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("automation %d: decide: %w", r.ID, err)
	}
	return nil
}

// choose picks the first channel in order that reaches the customer with
// their consent for that channel.
func choose(id, bits int64, lineUser, email, mobile string, channels []string) due {
	d := due{customerID: id, channel: "none"}
	if bits&flagActive == 0 {
		d.reason = SkipInactive
		return d
	}
	var noConsent, blocked bool
	for _, ch := range channels {
		switch ch {
		case campaign.ChannelLine:
			switch {
			case bits&flagLinked == 0 || lineUser == "":
			case bits&flagReachable == 0:
				blocked = true
			case bits&flagConsentLine == 0:
				noConsent = true
			default:
				d.channel, d.address = ch, lineUser
				return d
			}
		case campaign.ChannelEmail:
			e := strings.ToLower(strings.TrimSpace(email))
			switch {
			case e == "":
			case bits&flagConsentEmail == 0:
				noConsent = true
			default:
				d.channel, d.address = ch, e
				return d
			}
		case campaign.ChannelSMS:
			n, err := sms.E164(mobile)
			switch {
			case mobile == "" || err != nil:
			case bits&flagConsentSMS == 0:
				noConsent = true
			default:
				d.channel, d.address = ch, n
				return d
			}
		}
	}
	switch {
	case noConsent:
		d.reason = SkipNoConsent
	case blocked:
		d.reason = SkipBlocked
	default:
		d.reason = SkipNoContact
	}
	return d
}
