package line

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"time"

	"github.com/line/line-bot-sdk-go/v8/linebot/messaging_api"
)

// Endpoint names an API for rate limiting and the request log.
type Endpoint string

// The endpoints Client calls.
const (
	EndpointPush       Endpoint = "push"
	EndpointReply      Endpoint = "reply"
	EndpointMulticast  Endpoint = "multicast"
	EndpointProfile    Endpoint = "profile"
	EndpointQuota      Endpoint = "quota"
	EndpointValidate   Endpoint = "validate"
	EndpointContent    Endpoint = "content"
	EndpointLinkToken  Endpoint = "linkToken"
	EndpointRichMenu   Endpoint = "richMenu"
	EndpointMarkAsRead Endpoint = "markAsRead"
	EndpointLoading    Endpoint = "loading"
	// EndpointMarkAsReadByToken is POST /v2/bot/chat/markAsRead (see
	// MarkAsReadByToken); EndpointMarkAsRead is the older chat form.
	EndpointMarkAsReadByToken Endpoint = "markAsReadByToken"
	// The statistics reads (insight.go): LINE allows each 60 an hour.
	EndpointStatisticsPerUnit Endpoint = "statisticsPerUnit"
	EndpointFollowers         Endpoint = "followers"
	EndpointDemographics      Endpoint = "demographics"
	// EndpointAggregationUnit is GET /v2/bot/message/aggregation/*: the
	// aggregation units used this month.
	EndpointAggregationUnit Endpoint = "aggregationUnit"
)

// DefaultLimits are LINE's published rate limits in requests per second:
// 2,000 for push, reply, profile and most other APIs; 200 for multicast.
var DefaultLimits = map[Endpoint]float64{
	EndpointPush:       2000,
	EndpointReply:      2000,
	EndpointMulticast:  200,
	EndpointProfile:    2000,
	EndpointQuota:      2000,
	EndpointValidate:   2000,
	EndpointContent:    2000,
	EndpointLinkToken:  2000,
	EndpointRichMenu:   2000,
	EndpointMarkAsRead: 2000,
	EndpointLoading:    2000,
	// Not listed among LINE's published limits; the "other APIs" figure.
	EndpointMarkAsReadByToken: 2000,
	// LINE's table: 60 requests per hour each (a limit under one a
	// second is kept per hour; see bucket).
	EndpointStatisticsPerUnit: 60.0 / 3600,
	EndpointFollowers:         60.0 / 3600,
	EndpointDemographics:      60.0 / 3600,
	// Not in LINE's table: "other API endpoints".
	EndpointAggregationUnit: 2000,
}

// RetryPolicy says how often and how patiently a call is retried.
type RetryPolicy struct {
	MaxAttempts int           // attempts per call, the first included
	MinBackoff  time.Duration // the first wait's upper bound
	MaxBackoff  time.Duration // no wait exceeds this
}

// DefaultRetry retries for about a minute in the worst case: long enough to
// ride out a LINE incident's 5xx or a 429 storm, short enough that a stuck
// send is reported while staff are still watching.
var DefaultRetry = RetryPolicy{MaxAttempts: 8, MinBackoff: 500 * time.Millisecond, MaxBackoff: 15 * time.Second}

func (p RetryPolicy) withDefaults() RetryPolicy {
	if p.MaxAttempts <= 0 {
		p.MaxAttempts = DefaultRetry.MaxAttempts
	}
	if p.MinBackoff <= 0 {
		p.MinBackoff = DefaultRetry.MinBackoff
	}
	if p.MaxBackoff < p.MinBackoff {
		p.MaxBackoff = max(DefaultRetry.MaxBackoff, p.MinBackoff)
	}
	return p
}

// backoff returns the wait before attempt n+1 (n >= 1): "full jitter",
// uniformly random up to an exponentially growing cap, so that many workers
// hit by one 429 storm do not come back in lockstep.
func (p RetryPolicy) backoff(n int) time.Duration {
	ceiling := p.MinBackoff << min(n-1, 20)
	if ceiling <= 0 || ceiling > p.MaxBackoff {
		ceiling = p.MaxBackoff
	}
	return time.Duration(rand.Int64N(int64(ceiling)) + 1)
}

// ErrMonthlyLimit means the channel has sent its monthly message quota.
// Nothing more can be sent until the month ends or the plan changes, so it
// is never retried.
var ErrMonthlyLimit = errors.New("line: monthly message limit reached")

// msgMonthlyLimit is the message LINE puts in a 429 for the monthly limit.
const msgMonthlyLimit = "You have reached your monthly limit."

type retryMode int

const (
	// retryOnly429 retries only answers that prove LINE did not process
	// the request. For replies: a reply token cannot carry a retry key.
	retryOnly429 retryMode = iota
	// retryIdempotent also retries timeouts, dropped connections and
	// 5xx: for reads, and for sends that carry a retry key.
	retryIdempotent
)

type attemptFunc func(api *messaging_api.MessagingApiAPI) (*http.Response, error)

// do makes one API call: it waits for the endpoint's rate limit before each
// attempt, bounds each attempt by the attempt timeout, and retries as mode
// allows with jittered backoff. It returns the last answer (nil if none
// came) and, unless that answer is 2xx, an error: the transport error, an
// *APIError with LINE's message, or one wrapping ErrMonthlyLimit. A 409 is
// returned as an *APIError with the response, for the caller to judge.
func (c *Client) do(ctx context.Context, ep Endpoint, mode retryMode, attempt attemptFunc) (*http.Response, int, error) {
	return c.doHTTP(ctx, ep, mode, func(actx context.Context) (*http.Response, error) {
		api, err := c.api(actx)
		if err != nil {
			return nil, err
		}
		return attempt(api)
	})
}

// doHTTP is do for any SDK client: attempt gets the attempt's context
// (timeout and endpoint tag) and builds its own client on it.
func (c *Client) doHTTP(ctx context.Context, ep Endpoint, mode retryMode, attempt func(context.Context) (*http.Response, error)) (*http.Response, int, error) {
	var lastErr error
	for n := 1; ; n++ {
		if err := c.limits[ep].wait(ctx); err != nil {
			return nil, n - 1, fmt.Errorf("%s: %w", ep, err)
		}
		res, err := c.attempt(ctx, ep, attempt)
		retry := false
		switch {
		case res == nil:
			if err == nil {
				err = errors.New("no response")
			}
			if ctx.Err() != nil {
				return nil, n, transportError(string(ep), ctx.Err())
			}
			err = transportError(string(ep), err)
			retry = mode == retryIdempotent
		case res.StatusCode/100 == 2:
			return res, n, nil
		default:
			apiErr := newAPIError(res)
			err = apiErr
			switch {
			case res.StatusCode == http.StatusTooManyRequests && apiErr.Message == msgMonthlyLimit:
				return res, n, fmt.Errorf("%w: %w", ErrMonthlyLimit, apiErr)
			case res.StatusCode == http.StatusTooManyRequests:
				retry = true
			case res.StatusCode >= 500:
				retry = mode == retryIdempotent
			}
			if !retry {
				return res, n, apiErr
			}
		}
		lastErr = err
		if !retry || n >= c.retry.MaxAttempts {
			return res, n, lastErr
		}
		t := time.NewTimer(c.retry.backoff(n))
		select {
		case <-ctx.Done():
			t.Stop()
			return res, n, fmt.Errorf("%s: %w (after: %w)", ep, ctx.Err(), lastErr)
		case <-t.C:
		}
	}
}

// attempt runs one HTTP attempt under the attempt timeout, tagged with the
// endpoint for the request log.
func (c *Client) attempt(ctx context.Context, ep Endpoint, fn func(context.Context) (*http.Response, error)) (*http.Response, error) {
	actx, cancel := context.WithTimeout(context.WithValue(ctx, endpointKey{}, ep), c.timeout)
	defer cancel()
	// The SDK has read (and for errors, buffered) the whole answer by the
	// time it returns, so cancelling actx afterwards loses nothing.
	return fn(actx)
}

// endpointKey tags a request's context with its Endpoint.
type endpointKey struct{}
