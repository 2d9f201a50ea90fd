package line

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/line/line-bot-sdk-go/v8/linebot/messaging_api"
)

// EndpointBotInfo is GET /v2/bot/info. It has no limit of its own in
// DefaultLimits: it is called rarely (a letter being printed).
const EndpointBotInfo Endpoint = "botInfo"

// BotInfo is the official account's own description.
type BotInfo struct {
	UserID      string // the bot's user ID (the webhook "destination")
	BasicID     string // e.g. "@123abcde": the ID in line.me/R/ links
	PremiumID   string // "" if none
	DisplayName string
	ChatMode    string // "chat" or "bot"
}

// BotInfo fetches the official account's info (GET /v2/bot/info).
func (c *Client) BotInfo(ctx context.Context) (BotInfo, error) {
	var body *messaging_api.BotInfoResponse
	_, _, err := c.do(ctx, EndpointBotInfo, retryIdempotent, func(api *messaging_api.MessagingApiAPI) (*http.Response, error) {
		res, b, err := api.GetBotInfoWithHttpInfo()
		body = b
		return res, err
	})
	if err != nil {
		return BotInfo{}, fmt.Errorf("line: bot info: %w", err)
	}
	if body == nil || body.BasicId == "" {
		return BotInfo{}, errors.New("line: bot info: answer could not be decoded")
	}
	return BotInfo{UserID: body.UserId, BasicID: body.BasicId, PremiumID: body.PremiumId, DisplayName: body.DisplayName,
		ChatMode: string(body.ChatMode)}, nil
}
