package line

import (
	"encoding/json"
	"strings"

	"github.com/line/line-bot-sdk-go/v8/linebot/webhook"
)

// Event is one webhook event reduced to what Tsunagu's features use, so
// that the SDK's types stay inside this package.
type Event struct {
	Type       string // message, follow, unfollow, postback, ...; unknown types keep LINE's name
	ID         string // webhookEventId; "" if LINE sent none
	UserID     string // the 1:1 user; "" for group and room sources
	Timestamp  int64  // unix ms
	Redelivery bool
	ReplyToken string // "" in standby mode: another channel answers the chat
	Standby    bool

	// message: the kind (text, sticker, image, video, audio, file,
	// location, other), a readable body and LINE's message ID.
	MessageKind, MessageBody, MessageID string
	// message: its content lives elsewhere (contentProvider "external"):
	// there is nothing to download from LINE.
	ContentExternal bool
	FileSize        int64 // file messages

	Unblocked      bool              // follow: an unblock rather than a new friend
	PostbackData   string            // postback
	PostbackParams map[string]string // postback: datetime picker values
	TrackingID     string            // videoPlayComplete
	LinkResult     string            // accountLink: ok or failed (the nonce is not kept)
	UnsendID       string            // unsend: the message taken back
}

// Parsed returns the body's events as Events, in order.
func (w *Webhook) Parsed() []Event {
	if w == nil || w.CallbackRequest == nil {
		return nil
	}
	out := make([]Event, len(w.Events))
	for i, ev := range w.Events {
		out[i] = toEvent(ev)
	}
	return out
}

func toEvent(ev webhook.EventInterface) Event {
	var e Event
	switch x := ev.(type) {
	case webhook.MessageEvent:
		e = base("message", x.WebhookEventId, x.Source, x.Timestamp, x.DeliveryContext, x.Mode, x.ReplyToken)
		e.MessageKind, e.MessageBody, e.MessageID = describeMessage(x.Message)
		e.ContentExternal, e.FileSize = contentHints(x.Message)
	case webhook.FollowEvent:
		e = base("follow", x.WebhookEventId, x.Source, x.Timestamp, x.DeliveryContext, x.Mode, x.ReplyToken)
		e.Unblocked = x.Follow != nil && x.Follow.IsUnblocked
	case webhook.UnfollowEvent:
		e = base("unfollow", x.WebhookEventId, x.Source, x.Timestamp, x.DeliveryContext, x.Mode, "")
	case webhook.PostbackEvent:
		e = base("postback", x.WebhookEventId, x.Source, x.Timestamp, x.DeliveryContext, x.Mode, x.ReplyToken)
		if x.Postback != nil {
			e.PostbackData, e.PostbackParams = x.Postback.Data, x.Postback.Params
		}
	case webhook.VideoPlayCompleteEvent:
		e = base("videoPlayComplete", x.WebhookEventId, x.Source, x.Timestamp, x.DeliveryContext, x.Mode, x.ReplyToken)
		if x.VideoPlayComplete != nil {
			e.TrackingID = x.VideoPlayComplete.TrackingId
		}
	case webhook.AccountLinkEvent:
		e = base("accountLink", x.WebhookEventId, x.Source, x.Timestamp, x.DeliveryContext, x.Mode, x.ReplyToken)
		if x.Link != nil {
			e.LinkResult = string(x.Link.Result)
		}
	case webhook.UnsendEvent:
		e = base("unsend", x.WebhookEventId, x.Source, x.Timestamp, x.DeliveryContext, x.Mode, "")
		if x.Unsend != nil {
			e.UnsendID = x.Unsend.MessageId
		}
	case webhook.UnknownEvent:
		e.Type = x.Type
		_ = json.Unmarshal(x.Raw["webhookEventId"], &e.ID)
		_ = json.Unmarshal(x.Raw["timestamp"], &e.Timestamp)
	default:
		// A type the SDK knows but no feature uses (join, beacon,
		// membership ...): its name, ID and time are kept.
		e.Type = ev.GetType()
		if data, err := json.Marshal(ev); err == nil {
			var head struct {
				WebhookEventID string `json:"webhookEventId"`
				Timestamp      int64  `json:"timestamp"`
			}
			_ = json.Unmarshal(data, &head)
			e.ID, e.Timestamp = head.WebhookEventID, head.Timestamp
		}
	}
	if e.Standby {
		e.ReplyToken = ""
	}
	return e
}

func base(typ, id string, src webhook.SourceInterface, ts int64, dc *webhook.DeliveryContext, mode webhook.EventMode, token string) Event {
	return Event{Type: typ, ID: id, UserID: userOf(src), Timestamp: ts, Redelivery: dc != nil && dc.IsRedelivery,
		ReplyToken: token, Standby: mode == webhook.EventMode_STANDBY}
}

func userOf(src webhook.SourceInterface) string {
	switch s := src.(type) {
	case webhook.UserSource:
		return s.UserId
	case *webhook.UserSource:
		return s.UserId
	}
	return ""
}

// describeMessage gives the stored kind and a readable body for each
// message type.
func describeMessage(m webhook.MessageContentInterface) (kind, body, id string) {
	switch c := m.(type) {
	case webhook.TextMessageContent:
		return "text", c.Text, c.Id
	case webhook.StickerMessageContent:
		body := c.PackageId + "/" + c.StickerId
		if c.Text != "" {
			body = c.Text
		}
		return "sticker", body, c.Id
	case webhook.ImageMessageContent:
		return "image", "", c.Id
	case webhook.VideoMessageContent:
		return "video", "", c.Id
	case webhook.AudioMessageContent:
		return "audio", "", c.Id
	case webhook.FileMessageContent:
		return "file", c.FileName, c.Id
	case webhook.LocationMessageContent:
		return "location", strings.TrimSpace(c.Title + " " + c.Address), c.Id
	}
	return "other", "", ""
}

// contentHints says whether a media message's content is hosted outside
// LINE, and a file's size.
func contentHints(m webhook.MessageContentInterface) (external bool, size int64) {
	ext := func(p *webhook.ContentProvider) bool {
		return p != nil && p.Type == webhook.ContentProviderTYPE_EXTERNAL
	}
	switch c := m.(type) {
	case webhook.ImageMessageContent:
		return ext(c.ContentProvider), 0
	case webhook.AudioMessageContent:
		return ext(c.ContentProvider), 0
	case webhook.VideoMessageContent:
		return ext(c.ContentProvider), 0
	case webhook.FileMessageContent:
		return false, int64(c.FileSize)
	}
	return false, 0
}
