package line

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/line/line-bot-sdk-go/v8/linebot/messaging_api"
)

// pathMarkAsReadByToken is LINE's "mark messages as read" endpoint that
// takes a message event's markAsReadToken (released November 2025).
const pathMarkAsReadByToken = "/v2/bot/chat/markAsRead"

// maxMarkAsReadToken bounds the token sent. LINE's tokens are opaque
// strings of a few dozen characters; anything near this is not one.
const maxMarkAsReadToken = 1024

// markAsReadByTokenRequest is the body of pathMarkAsReadByToken.
type markAsReadByTokenRequest struct {
	MarkAsReadToken string `json:"markAsReadToken"`
}

// MarkAsReadByToken marks the message that carried token (a message event's
// markAsReadToken, see Webhook.MarkAsReadTokens), and every earlier message
// of that chat, as read: the customer sees 既読. Tokens do not expire, and
// marking twice is harmless, so the call is retried like a read. LINE only
// honours it while Chat is on in the LINE Official Account Manager (with
// Chat off, LINE marks messages read by itself).
//
// This is the one request the line package builds itself rather than through
// an SDK method: SDK v8.14.0, the newest published, has neither the
// endpoint nor the token field (LINE's other SDKs added both as
// MarkMessagesAsReadByToken). It still goes through as much of the SDK as
// possible: the SDK client supplies the endpoint URL (Url), the bearer
// token, User-Agent and context (Do), and the call runs through the same
// rate limit, attempt timeout, retries and request log as every other call.
// Replace it with the SDK's method once a release has it.
func (c *Client) MarkAsReadByToken(ctx context.Context, token string) error {
	if token == "" || len(token) > maxMarkAsReadToken {
		return errors.New("line: mark as read: malformed token")
	}
	body, err := json.Marshal(markAsReadByTokenRequest{MarkAsReadToken: token})
	if err != nil {
		return fmt.Errorf("line: mark as read: encode request: %w", err)
	}
	_, _, err = c.do(ctx, EndpointMarkAsReadByToken, retryIdempotent, func(api *messaging_api.MessagingApiAPI) (*http.Response, error) {
		req, err := http.NewRequest(http.MethodPost, api.Url(pathMarkAsReadByToken), bytes.NewReader(body))
		if err != nil {
			return nil, err
		}
		req.Header.Set("Content-Type", "application/json; charset=UTF-8")
		res, err := api.Do(req)
		if err != nil {
			return res, err
		}
		return res, bufferBody(res)
	})
	if err != nil {
		return fmt.Errorf("line: mark as read: %w", err)
	}
	return nil
}

// bufferBody does what the SDK's generated methods do with an answer before
// returning: an error body is read into memory (so it can be decoded after
// the attempt's context is cancelled), a success body is drained and closed
// (so the connection is reused).
func bufferBody(res *http.Response) error {
	if res.StatusCode/100 == 2 {
		_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, maxErrorBody))
		return res.Body.Close()
	}
	data, err := io.ReadAll(io.LimitReader(res.Body, maxErrorBody))
	res.Body.Close()
	res.Body = io.NopCloser(bytes.NewReader(data))
	if err != nil {
		return fmt.Errorf("read answer: %w", err)
	}
	return nil
}
