package line

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/line/line-bot-sdk-go/v8/linebot/messaging_api"
)

// Push sends messages to a user, group or room at any time.
//
// retryKey must be a UUID (8-4-4-4-12 hex) that the caller stored before
// calling, and reuses whenever it sends the same request again: LINE
// executes a retry key once and answers a repeat with 409 and the request
// ID it accepted. Push itself retries timeouts, dropped connections, 5xx and
// 429 with the same key and the same bytes, and treats a 409 with
// x-line-accepted-request-id as success (AcceptedRequestID set), so a
// resend never reaches the customer twice.
//
// On failure the result still carries the status and request ID LINE gave.
func (c *Client) Push(ctx context.Context, to string, msgs []Message, retryKey string) (SendResult, error) {
	return c.PushWithOptions(ctx, to, msgs, retryKey, SendOptions{})
}

// SendOptions are the optional parts of a push or multicast.
type SendOptions struct {
	// AggregationUnit is the customAggregationUnits name LINE counts the
	// send's statistics under (see StatisticsPerUnit); "" means none. It
	// must pass ValidateUnitName. A channel may use 1,000 names a JST
	// month: LINE sends past that but aggregates nothing for a new name.
	AggregationUnit string
}

func (o SendOptions) units() ([]string, error) {
	if o.AggregationUnit == "" {
		return nil, nil
	}
	if err := ValidateUnitName(o.AggregationUnit); err != nil {
		return nil, err
	}
	return []string{o.AggregationUnit}, nil
}

// PushWithOptions is Push with opts.
func (c *Client) PushWithOptions(ctx context.Context, to string, msgs []Message, retryKey string, opts SendOptions) (SendResult, error) {
	if to == "" {
		return SendResult{}, errors.New("line: push: no recipient")
	}
	if err := checkSend(msgs, retryKey); err != nil {
		return SendResult{}, fmt.Errorf("line: push: %w", err)
	}
	units, err := opts.units()
	if err != nil {
		return SendResult{}, fmt.Errorf("line: push: %w", err)
	}
	req := &messaging_api.PushMessageRequest{To: to, Messages: asSDK(msgs), CustomAggregationUnits: units}
	res, n, err := c.do(ctx, EndpointPush, retryIdempotent, func(api *messaging_api.MessagingApiAPI) (*http.Response, error) {
		res, _, err := api.PushMessageWithHttpInfo(req, retryKey)
		return res, err
	})
	return sendResult("push", res, n, err, true)
}

// Multicast sends messages to at most MaxMulticastRecipients users; use
// Chunks to split a larger list, with one stored retry key per chunk. It
// retries like Push. LINE answers 200 even for recipients who blocked the
// account or are unknown, and silently skips them.
func (c *Client) Multicast(ctx context.Context, to []string, msgs []Message, retryKey string) (SendResult, error) {
	return c.MulticastWithOptions(ctx, to, msgs, retryKey, SendOptions{})
}

// MulticastWithOptions is Multicast with opts. Every chunk of one delivery
// should carry the same AggregationUnit.
func (c *Client) MulticastWithOptions(ctx context.Context, to []string, msgs []Message, retryKey string, opts SendOptions) (SendResult, error) {
	if len(to) == 0 || len(to) > MaxMulticastRecipients {
		return SendResult{}, fmt.Errorf("line: multicast: %d recipients, want 1 to %d", len(to), MaxMulticastRecipients)
	}
	if err := checkSend(msgs, retryKey); err != nil {
		return SendResult{}, fmt.Errorf("line: multicast: %w", err)
	}
	units, err := opts.units()
	if err != nil {
		return SendResult{}, fmt.Errorf("line: multicast: %w", err)
	}
	req := &messaging_api.MulticastRequest{To: to, Messages: asSDK(msgs), CustomAggregationUnits: units}
	res, n, err := c.do(ctx, EndpointMulticast, retryIdempotent, func(api *messaging_api.MessagingApiAPI) (*http.Response, error) {
		res, _, err := api.MulticastWithHttpInfo(req, retryKey)
		return res, err
	})
	return sendResult("multicast", res, n, err, true)
}

// Reply answers an event with its reply token. A token works once and only
// for a short time after the event; LINE answers 400 "Invalid reply token"
// otherwise, and the caller should push instead. A reply cannot carry a
// retry key, so it is retried only after a 429 (which LINE answers before
// processing); a reply whose outcome is unknown cannot be safely resent.
func (c *Client) Reply(ctx context.Context, replyToken string, msgs []Message) (SendResult, error) {
	if replyToken == "" {
		return SendResult{}, errors.New("line: reply: no reply token")
	}
	if err := ValidateMessages(msgs); err != nil {
		return SendResult{}, fmt.Errorf("line: reply: %w", err)
	}
	req := &messaging_api.ReplyMessageRequest{ReplyToken: replyToken, Messages: asSDK(msgs)}
	res, n, err := c.do(ctx, EndpointReply, retryOnly429, func(api *messaging_api.MessagingApiAPI) (*http.Response, error) {
		res, _, err := api.ReplyMessageWithHttpInfo(req)
		return res, err
	})
	return sendResult("reply", res, n, err, false)
}

// Chunks splits user IDs into multicast-sized groups, in order.
func Chunks(ids []string) [][]string {
	var out [][]string
	for len(ids) > 0 {
		n := min(len(ids), MaxMulticastRecipients)
		out = append(out, ids[:n:n])
		ids = ids[n:]
	}
	return out
}

func checkSend(msgs []Message, retryKey string) error {
	if !isRetryKey(retryKey) {
		return errors.New("retry key is not a UUID")
	}
	return ValidateMessages(msgs)
}

func asSDK(msgs []Message) []messaging_api.MessageInterface {
	out := make([]messaging_api.MessageInterface, len(msgs))
	for i, m := range msgs {
		out[i] = m
	}
	return out
}

// sendResult turns what do returned for a send into a SendResult and error.
func sendResult(op string, res *http.Response, attempts int, err error, retryKeyed bool) (SendResult, error) {
	r := SendResult{Attempts: attempts}
	if res != nil {
		r.Status = res.StatusCode
		r.RequestID = res.Header.Get("X-Line-Request-Id")
	}
	if err == nil {
		// The status is what says LINE accepted the message; a body the
		// SDK could not decode must not make the caller resend.
		return r, nil
	}
	if retryKeyed && res != nil && res.StatusCode == http.StatusConflict {
		if id := res.Header.Get("X-Line-Accepted-Request-Id"); id != "" {
			r.AcceptedRequestID = id
			return r, nil
		}
	}
	if res == nil {
		return r, err
	}
	return r, fmt.Errorf("line: %s: %w", op, err)
}
