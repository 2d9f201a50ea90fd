package linesim

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"
)

// WebhookStatusError is returned when the webhook URL answered a webhook
// with a status other than 2xx. LINE treats that as a failed delivery.
type WebhookStatusError struct {
	StatusCode int
}

func (e *WebhookStatusError) Error() string {
	return fmt.Sprintf("linesim: webhook answered %d %s", e.StatusCode, http.StatusText(e.StatusCode))
}

// The webhook body, field for field as LINE sends it for the event types
// the simulator produces.
type (
	wireCallback struct {
		Destination string      `json:"destination"`
		Events      []wireEvent `json:"events"`
	}
	wireEvent struct {
		Type              string                 `json:"type"`
		Message           *wireMessage           `json:"message,omitempty"`
		Follow            *wireFollow            `json:"follow,omitempty"`
		Postback          *wirePostback          `json:"postback,omitempty"`
		Unsend            *wireUnsend            `json:"unsend,omitempty"`
		VideoPlayComplete *wireVideoPlayComplete `json:"videoPlayComplete,omitempty"`
		Link              *wireLink              `json:"link,omitempty"`
		WebhookEventID    string                 `json:"webhookEventId"`
		DeliveryContext   wireDeliveryContext    `json:"deliveryContext"`
		Timestamp         int64                  `json:"timestamp"`
		Source            wireSource             `json:"source"`
		ReplyToken        string                 `json:"replyToken,omitempty"`
		Mode              string                 `json:"mode"`
	}
	wireMessage struct {
		ID                  string               `json:"id"`
		Type                string               `json:"type"`
		QuoteToken          string               `json:"quoteToken,omitempty"`
		MarkAsReadToken     string               `json:"markAsReadToken,omitempty"`
		Text                string               `json:"text,omitempty"`
		PackageID           string               `json:"packageId,omitempty"`
		StickerID           string               `json:"stickerId,omitempty"`
		StickerResourceType string               `json:"stickerResourceType,omitempty"`
		ContentProvider     *wireContentProvider `json:"contentProvider,omitempty"`
	}
	wireContentProvider struct {
		Type string `json:"type"`
	}
	wirePostback struct {
		Data   string            `json:"data"`
		Params map[string]string `json:"params,omitempty"` // datetime picker: date, time or datetime
	}
	wireUnsend struct {
		MessageID string `json:"messageId"`
	}
	wireVideoPlayComplete struct {
		TrackingID string `json:"trackingId"`
	}
	wireLink struct {
		Result string `json:"result"`
		Nonce  string `json:"nonce"`
	}
	wireFollow struct {
		IsUnblocked bool `json:"isUnblocked"`
	}
	wireDeliveryContext struct {
		IsRedelivery bool `json:"isRedelivery"`
	}
	wireSource struct {
		Type   string `json:"type"`
		UserID string `json:"userId"`
	}
)

// SendText has the customer send text to the official account: the message
// appears in their Chat and LINE's message event (with a reply token) is
// POSTed, signed, to the webhook URL. The event ID is returned even when
// delivery failed, so the event can be Redelivered as LINE would. A
// customer who blocked the account cannot send.
func (s *Server) SendText(ctx context.Context, userID, text string) (eventID string, err error) {
	if text == "" {
		return "", errors.New("linesim: empty text")
	}
	eventID, _, err = s.sendMessage(ctx, userID, PhoneMessage{Type: "text", Text: text},
		func(m *wireMessage) { m.Type, m.Text, m.QuoteToken = "text", text, newQuoteToken() }, nil)
	return eventID, err
}

// SendSticker has the customer send a sticker (LINE's package and sticker
// IDs, e.g. "446" and "1988").
func (s *Server) SendSticker(ctx context.Context, userID, packageID, stickerID string) (eventID string, err error) {
	if packageID == "" || stickerID == "" {
		return "", errors.New("linesim: sticker needs package and sticker IDs")
	}
	eventID, _, err = s.sendMessage(ctx, userID, PhoneMessage{Type: "sticker", Text: packageID + "/" + stickerID},
		func(m *wireMessage) {
			m.Type, m.PackageID, m.StickerID, m.StickerResourceType, m.QuoteToken = "sticker", packageID, stickerID, "STATIC", newQuoteToken()
		}, nil)
	return eventID, err
}

// SendImage has the customer send an image; its bytes are served by the
// content endpoint under the returned message ID.
func (s *Server) SendImage(ctx context.Context, userID string, data []byte, contentType string) (eventID, messageID string, err error) {
	if len(data) == 0 {
		return "", "", errors.New("linesim: empty image")
	}
	return s.sendMessage(ctx, userID, PhoneMessage{Type: "image"},
		func(m *wireMessage) {
			m.Type, m.ContentProvider, m.QuoteToken = "image", &wireContentProvider{Type: "line"}, newQuoteToken()
		}, &content{data: append([]byte(nil), data...), contentType: contentType})
}

// Postback has the customer tap a postback button (of a rich menu, a
// template or a flex message) carrying data; label is what the phone shows.
func (s *Server) Postback(ctx context.Context, userID, label, data string) (eventID string, err error) {
	return s.customerEvent(ctx, userID, "postback", true, PhoneMessage{Type: "postback", Text: label},
		func(ev *wireEvent) { ev.Postback = &wirePostback{Data: data} })
}

// Unsend has the customer take back a message they sent (by the message ID
// LINE gave it).
func (s *Server) Unsend(ctx context.Context, userID, messageID string) (eventID string, err error) {
	return s.customerEvent(ctx, userID, "unsend", false, PhoneMessage{},
		func(ev *wireEvent) { ev.Unsend = &wireUnsend{MessageID: messageID} })
}

// VideoPlayComplete has the customer watch a video sent with a tracking ID
// to the end.
func (s *Server) VideoPlayComplete(ctx context.Context, userID, trackingID string) (eventID string, err error) {
	return s.customerEvent(ctx, userID, "videoPlayComplete", true, PhoneMessage{},
		func(ev *wireEvent) { ev.VideoPlayComplete = &wireVideoPlayComplete{TrackingID: trackingID} })
}

// AccountLink completes the account-link flow for a link token issued to
// the customer: result is "ok" with the nonce the app's site gave, or
// "failed".
func (s *Server) AccountLink(ctx context.Context, userID, linkToken, nonce string) (eventID string, err error) {
	s.mu.Lock()
	owner, ok := s.linkTokens[linkToken]
	delete(s.linkTokens, linkToken) // a link token works once
	s.mu.Unlock()
	result := "ok"
	if !ok || owner != userID {
		result, nonce = "failed", ""
	}
	return s.customerEvent(ctx, userID, "accountLink", true, PhoneMessage{},
		func(ev *wireEvent) { ev.Link = &wireLink{Result: result, Nonce: nonce} })
}

// sendMessage records a customer's message on their phone and posts its
// message event.
func (s *Server) sendMessage(ctx context.Context, userID string, pm PhoneMessage, fill func(*wireMessage), media *content) (eventID, messageID string, err error) {
	var msgID string
	eventID, err = s.customerEvent(ctx, userID, "message", true, pm, func(ev *wireEvent) {
		s.nextMsgID++
		msgID = strconv.FormatUint(s.nextMsgID, 10)
		// Every message event carries a read token (LINE since November
		// 2025): marking it read marks this and all earlier messages.
		tok := newReadToken()
		s.readTokens[tok] = readMark{userID: userID, messageID: s.nextMsgID}
		ev.Message = &wireMessage{ID: msgID, MarkAsReadToken: tok}
		fill(ev.Message)
		if media != nil {
			s.content[msgID] = *media
		}
	})
	return eventID, msgID, err
}

// customerEvent builds an event from a following customer (fill runs with
// s.mu held), shows pm on their phone if it has a type, and posts it.
func (s *Server) customerEvent(ctx context.Context, userID, typ string, replyable bool, pm PhoneMessage, fill func(*wireEvent)) (string, error) {
	now := s.now()
	s.mu.Lock()
	c, ok := s.customers[userID]
	if !ok {
		s.mu.Unlock()
		return "", ErrUnknownCustomer
	}
	if c.blocked || !c.Following {
		s.mu.Unlock()
		return "", errors.New("linesim: customer has blocked the official account")
	}
	if pm.Type != "" {
		pm.From, pm.At = FromCustomer, now
		c.chat = append(c.chat, pm)
	}
	ev := s.newEventLocked(typ, userID, now, replyable)
	fill(&ev)
	s.events[ev.WebhookEventID] = ev
	url := s.webhookURL
	s.mu.Unlock()
	return ev.WebhookEventID, s.post(ctx, url, ev)
}

// Follow has the customer add the official account as a friend (or unblock
// it) and sends the follow event, which carries a reply token. The customer
// follows from then on even if the webhook fails, as on LINE.
func (s *Server) Follow(ctx context.Context, userID string) error {
	now := s.now()
	s.mu.Lock()
	c, ok := s.customers[userID]
	if !ok {
		s.mu.Unlock()
		return ErrUnknownCustomer
	}
	if c.Following {
		s.mu.Unlock()
		return errors.New("linesim: customer already follows the official account")
	}
	ev := s.newEventLocked("follow", userID, now, true)
	ev.Follow = &wireFollow{IsUnblocked: c.blocked}
	c.setFollowing(true, now)
	c.Following, c.blocked = true, false
	s.events[ev.WebhookEventID] = ev
	url := s.webhookURL
	s.mu.Unlock()
	return s.post(ctx, url, ev)
}

// Unfollow has the customer block the official account and sends the
// unfollow event, which has no reply token. Afterwards LINE still accepts
// pushes to them (200) but delivers nothing, and their profile is 404.
func (s *Server) Unfollow(ctx context.Context, userID string) error {
	now := s.now()
	s.mu.Lock()
	c, ok := s.customers[userID]
	if !ok {
		s.mu.Unlock()
		return ErrUnknownCustomer
	}
	if !c.Following {
		s.mu.Unlock()
		return errors.New("linesim: customer does not follow the official account")
	}
	c.setFollowing(false, now)
	c.Following, c.blocked = false, true
	ev := s.newEventLocked("unfollow", userID, now, false)
	s.events[ev.WebhookEventID] = ev
	url := s.webhookURL
	s.mu.Unlock()
	return s.post(ctx, url, ev)
}

// Redeliver POSTs an event again the way LINE's webhook redelivery does:
// the same webhookEventId, timestamp and reply token, with
// deliveryContext.isRedelivery set.
func (s *Server) Redeliver(ctx context.Context, eventID string) error {
	s.mu.Lock()
	ev, ok := s.events[eventID]
	url := s.webhookURL
	s.mu.Unlock()
	if !ok {
		return ErrUnknownEvent
	}
	ev.DeliveryContext.IsRedelivery = true
	return s.post(ctx, url, ev)
}

// newEventLocked starts an event from userID at now, with a fresh reply
// token if the event type carries one.
func (s *Server) newEventLocked(typ, userID string, now time.Time, replyable bool) wireEvent {
	ev := wireEvent{
		Type:           typ,
		WebhookEventID: newEventID(now),
		Timestamp:      now.UnixMilli(),
		Source:         wireSource{Type: "user", UserID: userID},
		Mode:           "active",
	}
	if replyable {
		ev.ReplyToken = newReplyToken()
		s.replyTokens[ev.ReplyToken] = &replyToken{userID: userID, expires: now.Add(s.replyTTL)}
	}
	return ev
}

// post sends one event to the webhook URL, signed with the channel secret.
func (s *Server) post(ctx context.Context, url string, ev wireEvent) error {
	if url == "" {
		return ErrNoWebhookURL
	}
	body, err := json.Marshal(wireCallback{Destination: s.destination, Events: []wireEvent{ev}})
	if err != nil {
		return fmt.Errorf("linesim: encode webhook: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("linesim: webhook request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	req.Header.Set("User-Agent", "LineBotWebhook/2.0")
	req.Header.Set("X-Line-Signature", Sign(s.secret, body))
	res, err := s.hc.Do(req)
	if err != nil {
		return fmt.Errorf("linesim: post webhook: %w", err)
	}
	// Drain a little so the connection can be reused; the answer's body
	// means nothing to LINE.
	_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 64<<10))
	res.Body.Close()
	if res.StatusCode/100 != 2 {
		return &WebhookStatusError{StatusCode: res.StatusCode}
	}
	return nil
}
