package line

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/line/line-bot-sdk-go/v8/linebot/messaging_api"
)

// Quota is the channel's monthly message allowance.
type Quota struct {
	Limited bool  // false: no monthly limit ("none")
	Limit   int64 // messages per month, when Limited
}

// Remaining returns how many more messages fit this month given used.
// ok is false when there is no limit.
func (q Quota) Remaining(used int64) (n int64, ok bool) {
	if !q.Limited {
		return 0, false
	}
	return max(q.Limit-used, 0), true
}

// Quota fetches the monthly limit (GET /v2/bot/message/quota).
func (c *Client) Quota(ctx context.Context) (Quota, error) {
	var body *messaging_api.MessageQuotaResponse
	_, _, err := c.do(ctx, EndpointQuota, retryIdempotent, func(api *messaging_api.MessagingApiAPI) (*http.Response, error) {
		res, b, err := api.GetMessageQuotaWithHttpInfo()
		body = b
		return res, err
	})
	if err != nil {
		return Quota{}, fmt.Errorf("line: quota: %w", err)
	}
	if body == nil {
		return Quota{}, errors.New("line: quota: answer could not be decoded")
	}
	return Quota{Limited: body.Type == messaging_api.QuotaType_LIMITED, Limit: body.Value}, nil
}

// QuotaConsumption fetches how many messages were sent this month (GET
// /v2/bot/message/quota/consumption).
func (c *Client) QuotaConsumption(ctx context.Context) (int64, error) {
	var body *messaging_api.QuotaConsumptionResponse
	_, _, err := c.do(ctx, EndpointQuota, retryIdempotent, func(api *messaging_api.MessagingApiAPI) (*http.Response, error) {
		res, b, err := api.GetMessageQuotaConsumptionWithHttpInfo()
		body = b
		return res, err
	})
	if err != nil {
		return 0, fmt.Errorf("line: quota consumption: %w", err)
	}
	if body == nil {
		return 0, errors.New("line: quota consumption: answer could not be decoded")
	}
	return body.TotalUsage, nil
}

// ErrQuotaExceeded means a send would need more messages than this month
// has left.
var ErrQuotaExceeded = errors.New("line: not enough monthly message quota left")

// CheckQuota asks LINE for the limit and this month's use and reports
// ErrQuotaExceeded if need more messages would not fit, so a campaign can be
// refused before its first request.
func (c *Client) CheckQuota(ctx context.Context, need int64) error {
	q, err := c.Quota(ctx)
	if err != nil {
		return err
	}
	if !q.Limited {
		return nil
	}
	used, err := c.QuotaConsumption(ctx)
	if err != nil {
		return err
	}
	if left, _ := q.Remaining(used); need > left {
		return fmt.Errorf("%w: need %d, %d left of %d", ErrQuotaExceeded, need, left, q.Limit)
	}
	return nil
}

// Validation targets for Validate.
const (
	ValidatePush      = "push"
	ValidateReply     = "reply"
	ValidateMulticast = "multicast"
)

// Validate asks LINE whether msgs would be accepted by a push, reply or
// multicast, after the local checks. An invalid message is an *APIError
// (400) whose Details name the offending property.
func (c *Client) Validate(ctx context.Context, kind string, msgs []Message) error {
	if err := ValidateMessages(msgs); err != nil {
		return err
	}
	req := &messaging_api.ValidateMessageRequest{Messages: asSDK(msgs)}
	var call func(api *messaging_api.MessagingApiAPI) (*http.Response, struct{}, error)
	switch kind {
	case ValidatePush:
		call = func(api *messaging_api.MessagingApiAPI) (*http.Response, struct{}, error) {
			return api.ValidatePushWithHttpInfo(req)
		}
	case ValidateReply:
		call = func(api *messaging_api.MessagingApiAPI) (*http.Response, struct{}, error) {
			return api.ValidateReplyWithHttpInfo(req)
		}
	case ValidateMulticast:
		call = func(api *messaging_api.MessagingApiAPI) (*http.Response, struct{}, error) {
			return api.ValidateMulticastWithHttpInfo(req)
		}
	default:
		return fmt.Errorf("line: validate: unknown kind %q", kind)
	}
	_, _, err := c.do(ctx, EndpointValidate, retryIdempotent, func(api *messaging_api.MessagingApiAPI) (*http.Response, error) {
		res, _, err := call(api)
		return res, err
	})
	if err != nil {
		return fmt.Errorf("line: validate %s: %w", kind, err)
	}
	return nil
}

// IssueLinkToken issues the token that starts the account-link flow for a
// user (valid 10 minutes, usable once).
func (c *Client) IssueLinkToken(ctx context.Context, userID string) (string, error) {
	if !IsUserID(userID) {
		return "", errors.New("line: link token: malformed user ID")
	}
	var body *messaging_api.IssueLinkTokenResponse
	_, _, err := c.do(ctx, EndpointLinkToken, retryIdempotent, func(api *messaging_api.MessagingApiAPI) (*http.Response, error) {
		res, b, err := api.IssueLinkTokenWithHttpInfo(userID)
		body = b
		return res, err
	})
	if err != nil {
		return "", fmt.Errorf("line: link token: %w", err)
	}
	if body == nil || body.LinkToken == "" {
		return "", errors.New("line: link token: answer could not be decoded")
	}
	return body.LinkToken, nil
}

// LinkRichMenu shows a rich menu to one user instead of the default.
func (c *Client) LinkRichMenu(ctx context.Context, userID, richMenuID string) error {
	if !IsUserID(userID) || !isPathSafe(richMenuID) {
		return errors.New("line: link rich menu: malformed user or rich menu ID")
	}
	_, _, err := c.do(ctx, EndpointRichMenu, retryIdempotent, func(api *messaging_api.MessagingApiAPI) (*http.Response, error) {
		res, _, err := api.LinkRichMenuIdToUserWithHttpInfo(userID, richMenuID)
		return res, err
	})
	if err != nil {
		return fmt.Errorf("line: link rich menu: %w", err)
	}
	return nil
}

// UnlinkRichMenu returns a user to the default rich menu.
func (c *Client) UnlinkRichMenu(ctx context.Context, userID string) error {
	if !IsUserID(userID) {
		return errors.New("line: unlink rich menu: malformed user ID")
	}
	_, _, err := c.do(ctx, EndpointRichMenu, retryIdempotent, func(api *messaging_api.MessagingApiAPI) (*http.Response, error) {
		res, _, err := api.UnlinkRichMenuIdFromUserWithHttpInfo(userID)
		return res, err
	})
	if err != nil {
		return fmt.Errorf("line: unlink rich menu: %w", err)
	}
	return nil
}

// MarkAsRead marks a user's messages as read. SDK v8.14 (the newest
// published) has no markAsReadToken request, so this is the chat-based form
// of the same endpoint.
func (c *Client) MarkAsRead(ctx context.Context, userID string) error {
	if !IsUserID(userID) {
		return errors.New("line: mark as read: malformed user ID")
	}
	req := &messaging_api.MarkMessagesAsReadRequest{Chat: &messaging_api.ChatReference{UserId: userID}}
	_, _, err := c.do(ctx, EndpointMarkAsRead, retryIdempotent, func(api *messaging_api.MessagingApiAPI) (*http.Response, error) {
		res, _, err := api.MarkMessagesAsReadWithHttpInfo(req)
		return res, err
	})
	if err != nil {
		return fmt.Errorf("line: mark as read: %w", err)
	}
	return nil
}

// ShowLoading shows the loading animation in a user's chat for seconds (5
// to 60, in steps of 5) or until the next message arrives.
func (c *Client) ShowLoading(ctx context.Context, userID string, seconds int) error {
	if !IsUserID(userID) {
		return errors.New("line: loading animation: malformed user ID")
	}
	if seconds < 5 || seconds > 60 || seconds%5 != 0 {
		return fmt.Errorf("line: loading animation: %d seconds, want 5 to 60 in steps of 5", seconds)
	}
	req := &messaging_api.ShowLoadingAnimationRequest{ChatId: userID, LoadingSeconds: int32(seconds)}
	_, _, err := c.do(ctx, EndpointLoading, retryIdempotent, func(api *messaging_api.MessagingApiAPI) (*http.Response, error) {
		res, _, err := api.ShowLoadingAnimationWithHttpInfo(req)
		return res, err
	})
	if err != nil {
		return fmt.Errorf("line: loading animation: %w", err)
	}
	return nil
}

// MaxContentSize bounds a downloaded message content. LINE allows files up
// to 300 MB; content is kept in the encrypted DB, where anything much larger
// than a photo or a short video does not belong.
const MaxContentSize = 50 << 20

// ErrContentTooLarge means the content exceeds MaxContentSize.
var ErrContentTooLarge = errors.New("line: content is larger than Tsunagu keeps")

// Content downloads what a user sent in an image, video, audio or file
// message. LINE keeps content for a limited time; 404 afterwards.
func (c *Client) Content(ctx context.Context, messageID string) (data []byte, contentType string, err error) {
	if !isPathSafe(messageID) {
		return nil, "", errors.New("line: content: malformed message ID")
	}
	for n := 1; ; n++ {
		if err := c.limits[EndpointContent].wait(ctx); err != nil {
			return nil, "", fmt.Errorf("line: content: %w", err)
		}
		data, contentType, retry, err := c.contentAttempt(ctx, messageID)
		if err == nil || !retry || n >= c.retry.MaxAttempts {
			return data, contentType, err
		}
		t := time.NewTimer(c.retry.backoff(n))
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, "", fmt.Errorf("line: content: %w", ctx.Err())
		case <-t.C:
		}
	}
}

func (c *Client) contentAttempt(ctx context.Context, messageID string) (data []byte, contentType string, retry bool, err error) {
	actx, cancel := context.WithTimeout(context.WithValue(ctx, endpointKey{}, EndpointContent), 4*c.timeout)
	defer cancel()
	api, err := c.blobAPI(actx)
	if err != nil {
		return nil, "", false, err
	}
	res, _, err := api.GetMessageContentWithHttpInfo(messageID)
	if res == nil {
		return nil, "", ctx.Err() == nil, transportError("content", err)
	}
	defer res.Body.Close()
	if res.StatusCode/100 != 2 {
		apiErr := newAPIError(res)
		return nil, "", apiErr.Temporary(), fmt.Errorf("line: content: %w", apiErr)
	}
	data, err = io.ReadAll(io.LimitReader(res.Body, MaxContentSize+1))
	if err != nil {
		return nil, "", true, transportError("content", err)
	}
	if len(data) > MaxContentSize {
		return nil, "", false, ErrContentTooLarge
	}
	return data, res.Header.Get("Content-Type"), false, nil
}

// isPathSafe reports whether id can be pasted into a URL path: the SDK does
// not escape IDs.
func isPathSafe(id string) bool {
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
