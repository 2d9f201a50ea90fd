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
		Type            string              `json:"type"`
		Message         *wireTextMessage    `json:"message,omitempty"`
		Follow          *wireFollow         `json:"follow,omitempty"`
		WebhookEventID  string              `json:"webhookEventId"`
		DeliveryContext wireDeliveryContext `json:"deliveryContext"`
		Timestamp       int64               `json:"timestamp"`
		Source          wireSource          `json:"source"`
		ReplyToken      string              `json:"replyToken,omitempty"`
		Mode            string              `json:"mode"`
	}
	wireTextMessage struct {
		ID         string `json:"id"`
		Type       string `json:"type"`
		QuoteToken string `json:"quoteToken"`
		Text       string `json:"text"`
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
	now := s.now()
	s.mu.Lock()
	c, ok := s.customers[userID]
	if !ok {
		s.mu.Unlock()
		return "", ErrUnknownCustomer
	}
	if c.blocked {
		s.mu.Unlock()
		return "", errors.New("linesim: customer has blocked the official account")
	}
	c.chat = append(c.chat, PhoneMessage{From: FromCustomer, Text: text, At: now})
	s.nextMsgID++
	ev := s.newEventLocked("message", userID, now, true)
	ev.Message = &wireTextMessage{
		ID:         strconv.FormatUint(s.nextMsgID, 10),
		Type:       "text",
		QuoteToken: newQuoteToken(),
		Text:       text,
	}
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
