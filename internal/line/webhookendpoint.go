package line

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"github.com/line/line-bot-sdk-go/v8/linebot/messaging_api"
)

// EndpointWebhookEndpoint is PUT /v2/bot/channel/webhook/endpoint. It has
// no published limit of its own (the "other APIs" 2,000/s); none applied.
const EndpointWebhookEndpoint Endpoint = "webhookEndpoint"

// MaxWebhookEndpointLen is LINE's limit on a webhook URL.
const MaxWebhookEndpointLen = 500

// ErrBadWebhookEndpoint means LINE would refuse the URL: it must be HTTPS
// and at most 500 characters.
var ErrBadWebhookEndpoint = errors.New("line: webhook URL must be https:// and at most 500 characters")

// SetWebhookEndpoint sets the channel's webhook URL (LINE's
// set-webhook-endpoint API), e.g. to the relay's URL after enrolling.
// Setting the same URL again is harmless, so it is retried like a read.
func (c *Client) SetWebhookEndpoint(ctx context.Context, endpoint string) error {
	u, err := url.Parse(endpoint)
	if err != nil || u.Scheme != "https" || u.Host == "" || len(endpoint) > MaxWebhookEndpointLen {
		return ErrBadWebhookEndpoint
	}
	_, _, err = c.do(ctx, EndpointWebhookEndpoint, retryIdempotent, func(api *messaging_api.MessagingApiAPI) (*http.Response, error) {
		res, _, err := api.SetWebhookEndpointWithHttpInfo(&messaging_api.SetWebhookEndpointRequest{Endpoint: endpoint})
		return res, err
	})
	if err != nil {
		return fmt.Errorf("line: set webhook endpoint: %w", err)
	}
	return nil
}
