package linesim

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"net/http"
	"slices"
	"strings"
	"time"
)

// LINE's statistics, simulated with LINE's published rules:
//
//   - Interactions (a customer opening a delivered message, tapping a URL in
//     it, playing its video or audio) are recorded by OpenMessage, ClickURL
//     and PlayMedia against the delivered message, its request and its
//     aggregation unit. Nothing is reported to the bot when they happen:
//     LINE only aggregates them.
//   - Statistics include an event only once InsightDelay has passed since
//     it (LINE aggregates once a day; figures appear the next day).
//   - The privacy rule: a figure under 20, or one behind which fewer than
//     20 users stand, is null. A zero is therefore never shown.
//   - Interactions count for 14 days after the message was sent; then its
//     statistics are frozen.
//   - Daily figures (followers, deliveries) for a JST date are "unready"
//     until InsightDelay after the date ends, and "out_of_service" for
//     dates before LINE began counting.

// DefaultInsightDelay is how long after an event LINE's statistics first
// include it: LINE aggregates once a day and shows a day's figures the next
// day.
const DefaultInsightDelay = 24 * time.Hour

// privacyThreshold is LINE's under-20 rule for interaction statistics and
// the friend count below which demographics are unavailable.
const privacyThreshold = 20

// maxStatsPeriodDays is how many days after from the to of a per-unit
// statistics request may be (20210301 to 20210331 at most).
const maxStatsPeriodDays = 30

// The statistics endpoints, named for rate limits and faults. LINE limits
// each to 60 requests an hour.
const (
	EndpointInsightUnit        = "insightUnit"        // statistics per unit
	EndpointInsightFollowers   = "insightFollowers"   // number of followers
	EndpointInsightDelivery    = "insightDelivery"    // number of message deliveries
	EndpointInsightDemographic = "insightDemographic" // friend demographics
)

// interactionWindow is how long after a message was sent LINE still counts
// interactions with it; its statistics are frozen after that.
const interactionWindow = 14 * 24 * time.Hour

// The first dates LINE has figures for: before them the daily endpoints
// answer status "out_of_service".
var (
	followersSince  = time.Date(2016, 11, 1, 0, 0, 0, 0, jst)
	deliveriesSince = time.Date(2017, 3, 1, 0, 0, 0, 0, jst)
)

// Errors from the interaction methods.
var (
	ErrUnknownDelivery = errors.New("linesim: no such message was delivered to the customer")
	ErrNoSuchURL       = errors.New("linesim: the delivered message has no such URL")
	ErrNotMedia        = errors.New("linesim: the delivered message has no video or audio")
)

type insightState struct {
	delay         time.Duration
	unitsPerMonth int
	units         map[string]*unitMonth // by JST month "200601"
	overLimit     int
	events        []interaction
}

func newInsightState(delay time.Duration, unitsPerMonth int) insightState {
	if delay <= 0 {
		delay = DefaultInsightDelay
	}
	if unitsPerMonth <= 0 {
		unitsPerMonth = DefaultUnitsPerMonth
	}
	return insightState{delay: delay, unitsPerMonth: unitsPerMonth, units: map[string]*unitMonth{}}
}

// SetInsightDelay changes LINE's aggregation delay (see
// Config.InsightDelay); 0 shows every event at once, for the sandbox.
func (s *Server) SetInsightDelay(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.insight.delay = max(d, 0)
}

// blockChange is a friend blocking (or unblocking) the account.
type blockChange struct {
	at      time.Time
	blocked bool
}

// setFollowing records a change of c.Following for the followers insight;
// call it before changing c.Following.
func (c *customer) setFollowing(following bool, now time.Time) {
	if following == c.Following {
		return
	}
	switch {
	case following && c.firstFollow.IsZero():
		c.firstFollow = now
	case !c.firstFollow.IsZero():
		c.blocks = append(c.blocks, blockChange{at: now, blocked: !following})
	}
}

// friendAt reports whether c was a friend (followed and not blocking) at t.
func (c *customer) friendAt(t time.Time) bool {
	return !c.firstFollow.IsZero() && !c.firstFollow.After(t) && !c.blockedAt(t)
}

func (c *customer) blockedAt(t time.Time) bool {
	blocked := false
	for _, b := range c.blocks {
		if !b.at.Before(t) {
			break
		}
		blocked = b.blocked
	}
	return blocked
}

// targetable reports whether LINE knows c's gender, age and area: the
// "targeted reach" of the followers insight.
func (c *customer) targetable() bool { return c.Gender != "" && c.Age != "" && c.Area != "" }

// Kinds of interaction.
const (
	kindImpression = "impression"
	kindClick      = "click"
	kindPlay       = "play"
)

// interaction is one thing a customer did with a delivered message.
type interaction struct {
	userID, requestID, unit string
	seq                     int
	kind                    string
	url                     string // click
	percent                 int    // play: how far it was played, 0 to 100
	at                      time.Time
	sentAt                  time.Time // when the message was delivered
}

// OpenMessage has the customer display the messages ref names: every
// message of a send if ref is its request ID (x-line-request-id), or one
// message if ref is a sent message ID. Each call is one more impression.
func (s *Server) OpenMessage(userID, ref string) error {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	ds, err := s.deliveredLocked(userID, ref)
	if err != nil {
		return err
	}
	for _, d := range ds {
		s.recordLocked(d, interaction{kind: kindImpression, at: now})
	}
	return nil
}

// ClickURL has the customer tap url in a message ref names (see
// OpenMessage); the first such message that contains url is the one
// tapped. A tap shows the message, so a message not yet opened counts an
// impression too.
func (s *Server) ClickURL(userID, ref, url string) error {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	ds, err := s.deliveredLocked(userID, ref)
	if err != nil {
		return err
	}
	for _, d := range ds {
		if hasURL(d.Message, url) {
			s.openOnceLocked(d, now)
			s.recordLocked(d, interaction{kind: kindClick, url: url, at: now})
			return nil
		}
	}
	return ErrNoSuchURL
}

// PlayMedia has the customer play the first video or audio message ref
// names (see OpenMessage) to percent of its length (0 means only started;
// statistics count 25, 50, 75 and 100).
func (s *Server) PlayMedia(userID, ref string, percent int) error {
	if percent < 0 || percent > 100 {
		return fmt.Errorf("linesim: play %d%%: want 0 to 100", percent)
	}
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	ds, err := s.deliveredLocked(userID, ref)
	if err != nil {
		return err
	}
	for _, d := range ds {
		if d.Type == "video" || d.Type == "audio" {
			s.openOnceLocked(d, now)
			s.recordLocked(d, interaction{kind: kindPlay, percent: percent, at: now})
			return nil
		}
	}
	return ErrNotMedia
}

func (s *Server) deliveredLocked(userID, ref string) ([]Delivery, error) {
	c, ok := s.customers[userID]
	if !ok {
		return nil, ErrUnknownCustomer
	}
	var out []Delivery
	for _, d := range c.deliveries {
		if ref != "" && (d.RequestID == ref || d.MessageID == ref) {
			out = append(out, d)
		}
	}
	if len(out) == 0 {
		return nil, ErrUnknownDelivery
	}
	return out, nil
}

func (s *Server) recordLocked(d Delivery, e interaction) {
	e.userID, e.requestID, e.unit, e.seq, e.sentAt = d.UserID, d.RequestID, d.Unit, d.Seq, d.At
	s.insight.events = append(s.insight.events, e)
}

// openOnceLocked records an impression of d unless the customer has one.
func (s *Server) openOnceLocked(d Delivery, now time.Time) {
	for _, e := range s.insight.events {
		if e.kind == kindImpression && e.userID == d.UserID && e.requestID == d.RequestID && e.seq == d.Seq {
			return
		}
	}
	s.recordLocked(d, interaction{kind: kindImpression, at: now})
}

// hasURL reports whether a message object carries url: as an action's or
// image's URL, or inside a text.
func hasURL(raw []byte, url string) bool {
	if url == "" {
		return false
	}
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return false
	}
	found := false
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case string:
			if x == url || strings.Contains(x, url) {
				found = true
			}
		case []any:
			for _, e := range x {
				walk(e)
			}
		case map[string]any:
			for _, e := range x {
				walk(e)
			}
		}
	}
	walk(v)
	return found
}

// figure is a statistic as LINE shows it: null (nil) when withheld.
type figure = *int64

// shown applies LINE's privacy rule to a count of events and the number of
// users behind it: both are null if either is under 20.
func shown(count, users int) (figure, figure) {
	if count < privacyThreshold || users < privacyThreshold {
		return nil, nil
	}
	c, u := int64(count), int64(users)
	return &c, &u
}

func shownUsers(users int) figure {
	_, u := shown(users, users)
	return u
}

type unitOverview struct {
	UniqueImpression            figure `json:"uniqueImpression"`
	UniqueClick                 figure `json:"uniqueClick"`
	UniqueMediaPlayed           figure `json:"uniqueMediaPlayed"`
	UniqueMediaPlayed100Percent figure `json:"uniqueMediaPlayed100Percent"`
}

type unitMessage struct {
	Seq                         int    `json:"seq"`
	Impression                  figure `json:"impression"`
	MediaPlayed                 figure `json:"mediaPlayed"`
	MediaPlayed25Percent        figure `json:"mediaPlayed25Percent"`
	MediaPlayed50Percent        figure `json:"mediaPlayed50Percent"`
	MediaPlayed75Percent        figure `json:"mediaPlayed75Percent"`
	MediaPlayed100Percent       figure `json:"mediaPlayed100Percent"`
	UniqueImpression            figure `json:"uniqueImpression"`
	UniqueMediaPlayed           figure `json:"uniqueMediaPlayed"`
	UniqueMediaPlayed25Percent  figure `json:"uniqueMediaPlayed25Percent"`
	UniqueMediaPlayed50Percent  figure `json:"uniqueMediaPlayed50Percent"`
	UniqueMediaPlayed75Percent  figure `json:"uniqueMediaPlayed75Percent"`
	UniqueMediaPlayed100Percent figure `json:"uniqueMediaPlayed100Percent"`
}

type unitClick struct {
	Seq                  int    `json:"seq"`
	URL                  string `json:"url"`
	Click                figure `json:"click"`
	UniqueClick          figure `json:"uniqueClick"`
	UniqueClickOfRequest figure `json:"uniqueClickOfRequest"`
}

type unitStats struct {
	Overview unitOverview  `json:"overview"`
	Messages []unitMessage `json:"messages"`
	Clicks   []unitClick   `json:"clicks"`
}

// tally counts events and the distinct users behind them.
type tally struct {
	n     int
	users map[string]bool
}

func (t *tally) add(user string) {
	if t.users == nil {
		t.users = map[string]bool{}
	}
	t.n++
	t.users[user] = true
}

func (t *tally) shown() (figure, figure) { return shown(t.n, len(t.users)) }

// handleStatsPerUnit is GET /v2/bot/insight/message/event/aggregation.
func (s *Server) handleStatsPerUnit(w http.ResponseWriter, r *http.Request, _ string) {
	q := r.URL.Query()
	unit := q.Get("customAggregationUnit")
	if !IsUnitName(unit) {
		writeParamError(w, "customAggregationUnit", fmt.Sprintf("must match \"^[a-zA-Z0-9_]{1,%d}$\"", maxUnitNameLength))
		return
	}
	from, ok := parseDateParam(w, q.Get("from"), "from")
	if !ok {
		return
	}
	to, ok := parseDateParam(w, q.Get("to"), "to")
	if !ok {
		return
	}
	if to.Before(from) {
		writeParamError(w, "to", "must be on or after from")
		return
	}
	if to.After(from.AddDate(0, 0, maxStatsPeriodDays)) {
		writeParamError(w, "to", fmt.Sprintf("must be at most %d days after from", maxStatsPeriodDays))
		return
	}
	end := to.AddDate(0, 0, 1)

	now := s.now()
	s.mu.Lock()
	delay := s.insight.delay
	visible := func(at time.Time) bool { return !at.Add(delay).After(now) }
	// The bubbles LINE has aggregated for the unit: those delivered by
	// the period's end whose delivery is past the delay. None means LINE
	// has nothing for the unit yet.
	seqs := map[int]bool{}
	for _, id := range s.order {
		for _, d := range s.customers[id].deliveries {
			if d.Unit == unit && d.At.Before(end) && visible(d.At) {
				seqs[d.Seq] = true
			}
		}
	}
	var opened, clicked, played, played100 tally
	type clickKey struct {
		seq int
		url string
	}
	bubbles := map[int]*[6]tally{} // impressions; plays started; played 25, 50, 75, 100%
	clicks := map[clickKey]*tally{}
	clicksOfRequest := map[string]*tally{}
	for _, e := range s.insight.events {
		if e.unit != unit || !seqs[e.seq] || e.at.Before(from) || !e.at.Before(end) || !visible(e.at) ||
			e.at.Sub(e.sentAt) > interactionWindow {
			continue
		}
		b := bubbles[e.seq]
		if b == nil {
			b = &[6]tally{}
			bubbles[e.seq] = b
		}
		switch e.kind {
		case kindImpression:
			opened.add(e.userID)
			b[0].add(e.userID)
		case kindClick:
			clicked.add(e.userID)
			k := clickKey{e.seq, e.url}
			if clicks[k] == nil {
				clicks[k] = &tally{}
			}
			clicks[k].add(e.userID)
			if clicksOfRequest[e.url] == nil {
				clicksOfRequest[e.url] = &tally{}
			}
			clicksOfRequest[e.url].add(e.userID)
		case kindPlay:
			played.add(e.userID)
			b[1].add(e.userID)
			for i, p := range []int{25, 50, 75, 100} {
				if e.percent >= p {
					b[2+i].add(e.userID)
				}
			}
			if e.percent >= 100 {
				played100.add(e.userID)
			}
		}
	}
	s.mu.Unlock()

	out := unitStats{
		Overview: unitOverview{
			UniqueImpression:            shownUsers(len(opened.users)),
			UniqueClick:                 shownUsers(len(clicked.users)),
			UniqueMediaPlayed:           shownUsers(len(played.users)),
			UniqueMediaPlayed100Percent: shownUsers(len(played100.users)),
		},
		Messages: []unitMessage{},
		Clicks:   []unitClick{},
	}
	for _, seq := range slices.Sorted(maps.Keys(seqs)) {
		b := bubbles[seq]
		if b == nil {
			b = &[6]tally{}
		}
		m := unitMessage{Seq: seq}
		m.Impression, m.UniqueImpression = b[0].shown()
		m.MediaPlayed, m.UniqueMediaPlayed = b[1].shown()
		m.MediaPlayed25Percent, m.UniqueMediaPlayed25Percent = b[2].shown()
		m.MediaPlayed50Percent, m.UniqueMediaPlayed50Percent = b[3].shown()
		m.MediaPlayed75Percent, m.UniqueMediaPlayed75Percent = b[4].shown()
		m.MediaPlayed100Percent, m.UniqueMediaPlayed100Percent = b[5].shown()
		out.Messages = append(out.Messages, m)
	}
	keys := slices.SortedFunc(maps.Keys(clicks), func(a, b clickKey) int {
		if a.seq != b.seq {
			return a.seq - b.seq
		}
		return strings.Compare(a.url, b.url)
	})
	for _, k := range keys {
		c := unitClick{Seq: k.seq, URL: k.url}
		c.Click, c.UniqueClick = clicks[k].shown()
		c.UniqueClickOfRequest = shownUsers(len(clicksOfRequest[k.url].users))
		out.Clicks = append(out.Clicks, c)
	}
	writeJSON(w, http.StatusOK, out)
}

// dailyStatus says whether LINE has a JST date's daily figures at now.
func (s *Server) dailyStatus(date, since, now time.Time) string {
	switch {
	case date.Before(since):
		return "out_of_service"
	case now.Before(date.AddDate(0, 0, 1).Add(s.insight.delay)):
		return "unready"
	default:
		return "ready"
	}
}

// handleFollowers is GET /v2/bot/insight/followers?date=yyyyMMdd: as of the
// end of the JST date, followers is everyone who ever added the account,
// blocks those blocking it, targetedReaches the friends whose gender, age
// and area LINE knows.
func (s *Server) handleFollowers(w http.ResponseWriter, r *http.Request, _ string) {
	date, ok := parseDateParam(w, r.URL.Query().Get("date"), "date")
	if !ok {
		return
	}
	now := s.now()
	s.mu.Lock()
	status := s.dailyStatus(date, followersSince, now)
	if status != "ready" {
		s.mu.Unlock()
		writeJSON(w, http.StatusOK, struct {
			Status string `json:"status"`
		}{status})
		return
	}
	end := date.AddDate(0, 0, 1)
	var followers, blocks, targeted int64
	for _, id := range s.order {
		c := s.customers[id]
		if c.firstFollow.IsZero() || !c.firstFollow.Before(end) {
			continue
		}
		followers++
		switch {
		case c.blockedAt(end):
			blocks++
		case c.targetable():
			targeted++
		}
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, struct {
		Status          string `json:"status"`
		Followers       int64  `json:"followers"`
		TargetedReaches int64  `json:"targetedReaches"`
		Blocks          int64  `json:"blocks"`
	}{status, followers, targeted, blocks})
}

// handleDeliveryCount is GET /v2/bot/insight/message/delivery?date=: the
// messages the simulator delivered on the JST date, by API.
func (s *Server) handleDeliveryCount(w http.ResponseWriter, r *http.Request, _ string) {
	date, ok := parseDateParam(w, r.URL.Query().Get("date"), "date")
	if !ok {
		return
	}
	now := s.now()
	s.mu.Lock()
	status := s.dailyStatus(date, deliveriesSince, now)
	if status != "ready" {
		s.mu.Unlock()
		writeJSON(w, http.StatusOK, struct {
			Status string `json:"status"`
		}{status})
		return
	}
	end := date.AddDate(0, 0, 1)
	by := map[string]int64{}
	for _, id := range s.order {
		for _, d := range s.customers[id].deliveries {
			if !d.At.Before(date) && d.At.Before(end) {
				by[d.Via]++
			}
		}
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, struct {
		Status       string `json:"status"`
		APIPush      int64  `json:"apiPush"`
		APIMulticast int64  `json:"apiMulticast"`
		APIReply     int64  `json:"apiReply"`
	}{status, by[ViaPush], by[ViaMulticast], by[ViaReply]})
}

type tile struct {
	key string
	pct float64
}

// handleDemographic is GET /v2/bot/insight/demographic: the shares of the
// friends LINE had aggregated InsightDelay ago; available is false while
// the targeted reach (friends whose demographics LINE knows) is under 20.
func (s *Server) handleDemographic(w http.ResponseWriter, _ *http.Request, _ string) {
	now := s.now()
	s.mu.Lock()
	asOf := now.Add(-s.insight.delay)
	var friends []*customer
	targetable := 0
	for _, id := range s.order {
		if c := s.customers[id]; c.friendAt(asOf) {
			friends = append(friends, c)
			if c.targetable() {
				targetable++
			}
		}
	}
	type pair struct {
		name string
		of   func(*customer) string
	}
	attrs := []pair{
		{"gender", func(c *customer) string { return c.Gender }},
		{"age", func(c *customer) string { return c.Age }},
		{"area", func(c *customer) string { return c.Area }},
		{"appType", func(c *customer) string { return c.AppType }},
		{"subscriptionPeriod", func(c *customer) string { return subscriptionPeriod(asOf.Sub(c.firstFollow)) }},
	}
	shares := map[string][]tile{}
	for _, a := range attrs {
		n := map[string]int{}
		for _, c := range friends {
			v := a.of(c)
			if v == "" {
				v = "unknown"
			}
			n[v]++
		}
		for _, k := range slices.Sorted(maps.Keys(n)) {
			pct := math.Round(float64(n[k])*1000/float64(len(friends))) / 10
			shares[a.name] = append(shares[a.name], tile{k, pct})
		}
	}
	s.mu.Unlock()

	if targetable < privacyThreshold {
		writeJSON(w, http.StatusOK, struct {
			Available bool `json:"available"`
		}{false})
		return
	}
	out := map[string]any{"available": true}
	for _, a := range attrs {
		list := []map[string]any{}
		for _, t := range shares[a.name] {
			list = append(list, map[string]any{a.name: t.key, "percentage": t.pct})
		}
		out[a.name+"s"] = list
	}
	writeJSON(w, http.StatusOK, out)
}

// subscriptionPeriod is LINE's friendship-duration bucket for d.
func subscriptionPeriod(d time.Duration) string {
	days := d.Hours() / 24
	switch {
	case days < 7:
		return "within7days"
	case days < 30:
		return "within30days"
	case days < 90:
		return "within90days"
	case days < 180:
		return "within180days"
	case days < 365:
		return "within365days"
	default:
		return "over365days"
	}
}

// parseDateParam reads a yyyyMMdd query parameter as the start of that day
// in JST, or answers 400 naming the parameter.
func parseDateParam(w http.ResponseWriter, v, name string) (time.Time, bool) {
	t, err := time.ParseInLocation("20060102", v, jst)
	if len(v) != 8 || err != nil {
		writeParamError(w, name, "must be a date in the form yyyyMMdd (UTC+9)")
		return time.Time{}, false
	}
	return t, true
}

// writeParamError answers 400 for a bad query parameter. LINE publishes no
// wording for these; the shape is that of its other property errors.
func writeParamError(w http.ResponseWriter, property, msg string) {
	writeError(w, http.StatusBadRequest, errorBody{
		Message: "The request has 1 error(s)",
		Details: []errorDetail{{Message: msg, Property: property}},
	})
}
