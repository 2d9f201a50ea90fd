package line

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/line/line-bot-sdk-go/v8/linebot/insight"
	"github.com/line/line-bot-sdk-go/v8/linebot/messaging_api"
)

// LINE's statistics. Two rules shape every type here:
//
//   - Privacy: LINE shows null for any interaction figure under 20, or
//     with fewer than 20 people behind it. Such a figure is Withheld, never
//     zero.
//   - Delay: LINE aggregates once a day, so statistics appear about a day
//     after the events (LINE suggests waiting a few days); until then a
//     unit has nothing (Pending) and a day's follower count is "unready".
//     Interactions are counted for 14 days after the send.
//   - Rate: 60 requests an hour to each statistics endpoint; the client
//     waits rather than draw LINE's 429 (see bucket).
//
// The SDK's generated insight types decode LINE's null as 0 (their fields
// are plain int64), which would turn "withheld" into a fake zero. So the
// calls go through the SDK, but the answer is decoded here from LINE's raw
// JSON.

// jst is LINE's time zone for statistics dates and months (UTC+9).
var jst = time.FixedZone("JST", 9*60*60)

// MaxStatsPeriodDays is how many days after from the to of
// StatisticsPerUnit may be.
const MaxStatsPeriodDays = 30

// maxUnitNameLength is LINE's limit on an aggregation unit name.
const maxUnitNameLength = 30

// maxInsightBody bounds an insight answer read into memory.
const maxInsightBody = 4 << 20

// ErrBadUnitName means an aggregation unit name LINE would refuse.
var ErrBadUnitName = errors.New("line: aggregation unit name must be 1 to 30 letters, digits or underscores")

// ValidateUnitName checks a customAggregationUnits name against LINE's
// rule ^[a-zA-Z0-9_]{1,30}$ (names are case-sensitive).
func ValidateUnitName(name string) error {
	if len(name) < 1 || len(name) > maxUnitNameLength {
		return ErrBadUnitName
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_') {
			return ErrBadUnitName
		}
	}
	return nil
}

// Figure is one of LINE's statistics.
type Figure struct {
	Value int64
	// Withheld means LINE shows no figure (null): under 20, or fewer than
	// 20 people behind it. Value is then 0 and means nothing.
	Withheld bool
}

func figure(p *int64) Figure {
	if p == nil {
		return Figure{Withheld: true}
	}
	return Figure{Value: *p}
}

// String is the value, or "withheld".
func (f Figure) String() string {
	if f.Withheld {
		return "withheld"
	}
	return fmt.Sprint(f.Value)
}

// UnitStats is LINE's statistics for one aggregation unit over a period.
type UnitStats struct {
	// Pending means LINE has aggregated nothing for the unit in the
	// period yet (it lists a unit's message bubbles once it has): every
	// figure is unknown, not zero. Ask again after LINE's daily
	// aggregation.
	Pending bool
	// People who displayed at least one bubble, tapped any URL, started
	// any video or audio, played one to the end.
	UniqueImpression            Figure
	UniqueClick                 Figure
	UniqueMediaPlayed           Figure
	UniqueMediaPlayed100Percent Figure
	Bubbles                     []BubbleStats
	URLs                        []URLStats
}

// BubbleStats is one message bubble's figures; Seq is its 1-based
// position in the send.
type BubbleStats struct {
	Seq                                                         int
	Impression, UniqueImpression                                Figure
	MediaPlayed, MediaPlayed25, MediaPlayed50, MediaPlayed75    Figure
	MediaPlayed100                                              Figure
	UniqueMediaPlayed, UniqueMediaPlayed25, UniqueMediaPlayed50 Figure
	UniqueMediaPlayed75, UniqueMediaPlayed100                   Figure
}

// URLStats is one URL in one bubble: taps, people who tapped it there,
// and people who tapped it in any bubble of the message.
type URLStats struct {
	Seq                                      int
	URL                                      string
	Click, UniqueClick, UniqueClickOfRequest Figure
}

// statsDate is t's date in JST as LINE's yyyyMMdd.
func statsDate(t time.Time) string { return t.In(jst).Format("20060102") }

// StatisticsPerUnit fetches LINE's statistics for the messages sent with
// unit, over the JST dates of from to to (at most MaxStatsPeriodDays
// apart).
func (c *Client) StatisticsPerUnit(ctx context.Context, unit string, from, to time.Time) (UnitStats, error) {
	if err := ValidateUnitName(unit); err != nil {
		return UnitStats{}, fmt.Errorf("line: statistics per unit: %w", err)
	}
	f, t := statsDate(from), statsDate(to)
	fd, _ := time.ParseInLocation("20060102", f, jst)
	td, _ := time.ParseInLocation("20060102", t, jst)
	if td.Before(fd) || td.After(fd.AddDate(0, 0, MaxStatsPeriodDays)) {
		return UnitStats{}, fmt.Errorf("line: statistics per unit: period %s to %s: to must be 0 to %d days after from", f, t, MaxStatsPeriodDays)
	}
	raw, err := c.insightGet(ctx, EndpointStatisticsPerUnit, "statistics per unit", func(api *insight.InsightAPI) (*http.Response, error) {
		res, _, err := api.GetStatisticsPerUnitWithHttpInfo(unit, f, t)
		return res, err
	})
	if err != nil {
		return UnitStats{}, err
	}
	var body struct {
		Overview struct {
			UniqueImpression, UniqueClick, UniqueMediaPlayed, UniqueMediaPlayed100Percent *int64
		} `json:"overview"`
		Messages []struct {
			Seq                                                                                int
			Impression, UniqueImpression, MediaPlayed                                          *int64
			MediaPlayed25Percent, MediaPlayed50Percent, MediaPlayed75Percent                   *int64
			MediaPlayed100Percent, UniqueMediaPlayed                                           *int64
			UniqueMediaPlayed25Percent, UniqueMediaPlayed50Percent, UniqueMediaPlayed75Percent *int64
			UniqueMediaPlayed100Percent                                                        *int64
		} `json:"messages"`
		Clicks []struct {
			Seq                                      int
			URL                                      string
			Click, UniqueClick, UniqueClickOfRequest *int64
		} `json:"clicks"`
	}
	if err := json.Unmarshal(raw, &body); err != nil {
		return UnitStats{}, fmt.Errorf("line: statistics per unit: decode answer: %w", err)
	}
	o := body.Overview
	st := UnitStats{
		UniqueImpression:            figure(o.UniqueImpression),
		UniqueClick:                 figure(o.UniqueClick),
		UniqueMediaPlayed:           figure(o.UniqueMediaPlayed),
		UniqueMediaPlayed100Percent: figure(o.UniqueMediaPlayed100Percent),
	}
	st.Pending = len(body.Messages) == 0 && o.UniqueImpression == nil && o.UniqueClick == nil &&
		o.UniqueMediaPlayed == nil && o.UniqueMediaPlayed100Percent == nil
	for _, m := range body.Messages {
		st.Bubbles = append(st.Bubbles, BubbleStats{
			Seq:        m.Seq,
			Impression: figure(m.Impression), UniqueImpression: figure(m.UniqueImpression),
			MediaPlayed: figure(m.MediaPlayed), MediaPlayed25: figure(m.MediaPlayed25Percent),
			MediaPlayed50: figure(m.MediaPlayed50Percent), MediaPlayed75: figure(m.MediaPlayed75Percent),
			MediaPlayed100: figure(m.MediaPlayed100Percent), UniqueMediaPlayed: figure(m.UniqueMediaPlayed),
			UniqueMediaPlayed25: figure(m.UniqueMediaPlayed25Percent), UniqueMediaPlayed50: figure(m.UniqueMediaPlayed50Percent),
			UniqueMediaPlayed75: figure(m.UniqueMediaPlayed75Percent), UniqueMediaPlayed100: figure(m.UniqueMediaPlayed100Percent),
		})
	}
	for _, k := range body.Clicks {
		st.URLs = append(st.URLs, URLStats{Seq: k.Seq, URL: k.URL, Click: figure(k.Click),
			UniqueClick: figure(k.UniqueClick), UniqueClickOfRequest: figure(k.UniqueClickOfRequest)})
	}
	return st, nil
}

// DailyStatus is how far LINE has counted a day's figures.
type DailyStatus string

// LINE's statuses for daily figures.
const (
	DailyReady DailyStatus = "ready"
	// DailyUnready: LINE is still counting the day (it takes about a
	// day); ask again later.
	DailyUnready DailyStatus = "unready"
	// DailyOutOfService: the date is before LINE began counting.
	DailyOutOfService DailyStatus = "out_of_service"
)

// Followers is LINE's friend count for one JST date. The counts mean
// something only when Status is DailyReady.
type Followers struct {
	Date   string // yyyyMMdd, JST
	Status DailyStatus
	// Followers counts everyone who ever added the account (it does not
	// fall when someone blocks); TargetedReaches the friends LINE can
	// target by gender, age and area; Blocks those blocking it now.
	Followers, TargetedReaches, Blocks int64
}

// Followers fetches the friend counts for date's JST day.
func (c *Client) Followers(ctx context.Context, date time.Time) (Followers, error) {
	d := statsDate(date)
	raw, err := c.insightGet(ctx, EndpointFollowers, "followers", func(api *insight.InsightAPI) (*http.Response, error) {
		res, _, err := api.GetNumberOfFollowersWithHttpInfo(d)
		return res, err
	})
	if err != nil {
		return Followers{}, err
	}
	var body struct {
		Status                             DailyStatus `json:"status"`
		Followers, TargetedReaches, Blocks *int64
	}
	if err := json.Unmarshal(raw, &body); err != nil {
		return Followers{}, fmt.Errorf("line: followers: decode answer: %w", err)
	}
	out := Followers{Date: d, Status: body.Status}
	switch body.Status {
	case DailyUnready, DailyOutOfService:
		return out, nil
	case DailyReady:
		if body.Followers == nil || body.TargetedReaches == nil || body.Blocks == nil {
			return Followers{}, errors.New("line: followers: ready answer lacks a count")
		}
		out.Followers, out.TargetedReaches, out.Blocks = *body.Followers, *body.TargetedReaches, *body.Blocks
		return out, nil
	default:
		return Followers{}, fmt.Errorf("line: followers: unknown status %q", body.Status)
	}
}

// Share is one group's percentage of the friends, e.g. "female" 52.3.
type Share struct {
	Key        string // LINE's value: "female", "from30to34", "東京", "ios", "within90days", "unknown"
	Percentage float64
}

// Demographics is LINE's estimate of who the friends are. Available is
// false while LINE has too few friends to show it (under 20); the lists
// are then empty.
type Demographics struct {
	Available                                           bool
	Genders, Ages, Areas, AppTypes, SubscriptionPeriods []Share
}

// Demographics fetches the friends' demographics.
func (c *Client) Demographics(ctx context.Context) (Demographics, error) {
	raw, err := c.insightGet(ctx, EndpointDemographics, "demographics", func(api *insight.InsightAPI) (*http.Response, error) {
		res, _, err := api.GetFriendsDemographicsWithHttpInfo()
		return res, err
	})
	if err != nil {
		return Demographics{}, err
	}
	var body struct {
		Available bool `json:"available"`
		Genders   []struct {
			Gender     string  `json:"gender"`
			Percentage float64 `json:"percentage"`
		} `json:"genders"`
		Ages []struct {
			Age        string  `json:"age"`
			Percentage float64 `json:"percentage"`
		} `json:"ages"`
		Areas []struct {
			Area       string  `json:"area"`
			Percentage float64 `json:"percentage"`
		} `json:"areas"`
		AppTypes []struct {
			AppType    string  `json:"appType"`
			Percentage float64 `json:"percentage"`
		} `json:"appTypes"`
		SubscriptionPeriods []struct {
			SubscriptionPeriod string  `json:"subscriptionPeriod"`
			Percentage         float64 `json:"percentage"`
		} `json:"subscriptionPeriods"`
	}
	if err := json.Unmarshal(raw, &body); err != nil {
		return Demographics{}, fmt.Errorf("line: demographics: decode answer: %w", err)
	}
	d := Demographics{Available: body.Available}
	if !d.Available {
		return d, nil
	}
	for _, t := range body.Genders {
		d.Genders = append(d.Genders, Share{t.Gender, t.Percentage})
	}
	for _, t := range body.Ages {
		d.Ages = append(d.Ages, Share{t.Age, t.Percentage})
	}
	for _, t := range body.Areas {
		d.Areas = append(d.Areas, Share{t.Area, t.Percentage})
	}
	for _, t := range body.AppTypes {
		d.AppTypes = append(d.AppTypes, Share{t.AppType, t.Percentage})
	}
	for _, t := range body.SubscriptionPeriods {
		d.SubscriptionPeriods = append(d.SubscriptionPeriods, Share{t.SubscriptionPeriod, t.Percentage})
	}
	return d, nil
}

// UnitsUsedThisMonth returns how many aggregation unit names the channel
// used this JST month (LINE's limit is 1,000).
func (c *Client) UnitsUsedThisMonth(ctx context.Context) (int64, error) {
	var body *messaging_api.GetAggregationUnitUsageResponse
	_, _, err := c.do(ctx, EndpointAggregationUnit, retryIdempotent, func(api *messaging_api.MessagingApiAPI) (*http.Response, error) {
		res, b, err := api.GetAggregationUnitUsageWithHttpInfo()
		body = b
		return res, err
	})
	if err != nil {
		return 0, fmt.Errorf("line: units used: %w", err)
	}
	if body == nil {
		return 0, errors.New("line: units used: answer could not be decoded")
	}
	return body.NumOfCustomAggregationUnits, nil
}

// unitPageLimit is the page size UnitNames asks for; maxUnitPages stops a
// continuation token that never ends (1,000 names fit in 10 pages).
const (
	unitPageLimit = "100"
	maxUnitPages  = 100
)

// UnitNames returns the aggregation unit names used this JST month, in
// LINE's order, following LINE's continuation tokens.
func (c *Client) UnitNames(ctx context.Context) ([]string, error) {
	var names []string
	start := ""
	for range maxUnitPages {
		var body *messaging_api.GetAggregationUnitNameListResponse
		_, _, err := c.do(ctx, EndpointAggregationUnit, retryIdempotent, func(api *messaging_api.MessagingApiAPI) (*http.Response, error) {
			res, b, err := api.GetAggregationUnitNameListWithHttpInfo(unitPageLimit, start)
			body = b
			return res, err
		})
		if err != nil {
			return nil, fmt.Errorf("line: unit names: %w", err)
		}
		if body == nil {
			return nil, errors.New("line: unit names: answer could not be decoded")
		}
		names = append(names, body.CustomAggregationUnits...)
		if body.Next == "" {
			return names, nil
		}
		start = body.Next
	}
	return nil, fmt.Errorf("line: unit names: more than %d pages", maxUnitPages)
}

// insightGet makes one insight read through the SDK's insight client and
// returns LINE's raw JSON answer (see the note at the top of this file).
func (c *Client) insightGet(ctx context.Context, ep Endpoint, op string, call func(*insight.InsightAPI) (*http.Response, error)) ([]byte, error) {
	var raw []byte
	_, _, err := c.doHTTP(ctx, ep, retryIdempotent, func(actx context.Context) (*http.Response, error) {
		raw = nil
		hc := *c.hc
		hc.Transport = &bodyTap{next: c.hc.Transport, body: &raw}
		api, err := insight.NewInsightAPI(c.token, insight.WithEndpoint(c.endpoint), insight.WithHTTPClient(&hc))
		if err != nil {
			return nil, fmt.Errorf("line: configure SDK insight client: %w", err)
		}
		return call(api.WithContext(actx))
	})
	if err != nil {
		return nil, fmt.Errorf("line: %s: %w", op, err)
	}
	if raw == nil {
		return nil, fmt.Errorf("line: %s: empty answer", op)
	}
	return raw, nil
}

// bodyTap keeps a copy of each answer's body for the caller and hands the
// SDK an identical one.
type bodyTap struct {
	next http.RoundTripper
	body *[]byte
}

func (t *bodyTap) RoundTrip(req *http.Request) (*http.Response, error) {
	res, err := t.next.RoundTrip(req)
	if err != nil || res.Body == nil {
		return res, err
	}
	data, err := io.ReadAll(io.LimitReader(res.Body, maxInsightBody))
	res.Body.Close()
	if err != nil {
		return nil, fmt.Errorf("read answer: %w", err)
	}
	*t.body = data
	res.Body = io.NopCloser(bytes.NewReader(data))
	return res, nil
}
