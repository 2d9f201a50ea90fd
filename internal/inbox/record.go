package inbox

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"tsunagu/internal/line"
	"tsunagu/internal/store"
)

// Sent is a send the account made to LINE users that no staff member typed
// in the thread: a campaign, a survey's first question, a reminder, a
// welcome step. RecordSent puts it into each recipient's conversation.
type Sent struct {
	// Source is the feature that sent it and its ID, as its audit target
	// reads ("campaign:12", "survey:3", "automation:5"); the thread shows
	// its kind and name from it.
	Source   string
	To       []string // LINE user IDs
	Messages []line.Message
	// The request that carries it (one of the two): the thread shows
	// that request's delivery status.
	OutboxRequest   int64
	CampaignRequest int64
	At              time.Time
	// Untrack, if set, turns a copy's tracked links back into the links as
	// written (clicks.Untrack): a clerk reads the link, not a token.
	Untrack func(text string) string
}

// RecordSent stores s as outgoing messages of each recipient's
// conversation (one row per LINE message and recipient), inside the
// transaction that enqueues the send, so that a send is never without its
// place in the thread nor the reverse. A recipient the inbox never saw
// (no line_users row) gets no row: there is no conversation to show it in.
// It also registers what the buttons it carries say (RegisterPostbackLabel),
// so a tap on one shows its label. A request of 500 recipients costs one
// statement per message, not one per recipient.
func RecordSent(ctx context.Context, tx store.Execer, s Sent) error {
	if len(s.To) == 0 || len(s.Messages) == 0 {
		return nil
	}
	users, err := json.Marshal(s.To)
	if err != nil {
		return fmt.Errorf("record send %s: %w", s.Source, err)
	}
	at := s.At.UnixMilli()
	// A friend who never wrote has a line_users row (the follow event)
	// and, usually, a conversation; make sure of the latter.
	if _, err := tx.ExecContext(ctx, `
		INSERT OR IGNORE INTO conversations (line_user_id, created_at)
		SELECT u.user_id, ? FROM json_each(?) j JOIN line_users u ON u.user_id = j.value`, at, string(users)); err != nil {
		return fmt.Errorf("record send %s: conversations: %w", s.Source, err)
	}
	var outReq, campReq any
	if s.OutboxRequest != 0 {
		outReq = s.OutboxRequest
	}
	if s.CampaignRequest != 0 {
		campReq = s.CampaignRequest
	}
	labels := map[string]string{}
	for _, m := range s.Messages {
		kind, body := Summarise(m)
		if s.Untrack != nil {
			body = s.Untrack(body)
		}
		collectPostbackLabels(m.Bytes(), labels)
		if _, err := tx.ExecContext(ctx, `
			INSERT INTO messages (conversation_id, direction, kind, body, status, created_at, source, outbox_request, campaign_request)
			SELECT c.id, 'out', ?, ?, 'sent', ?, ?, ?, ? FROM json_each(?) j JOIN conversations c ON c.line_user_id = j.value
			ORDER BY j.key`, kind, body, at, s.Source, outReq, campReq, string(users)); err != nil {
			return fmt.Errorf("record send %s: messages: %w", s.Source, err)
		}
	}
	for data, label := range labels {
		if err := registerLabel(ctx, tx, data, label, at); err != nil {
			return err
		}
	}
	return nil
}

// Summarise is what the thread shows of an outgoing LINE message object:
// its kind as the inbox names kinds, and its text (a text message's text,
// a Flex or template message's alternative text, the one a phone's
// notification shows).
func Summarise(m line.Message) (kind, body string) {
	var v struct {
		Type    string `json:"type"`
		Text    string `json:"text"`
		AltText string `json:"altText"`
	}
	_ = json.Unmarshal(m.Bytes(), &v) // a line.Message is valid JSON with a type
	switch v.Type {
	case "text", "textV2":
		return "text", v.Text
	case "flex", "template":
		return "text", v.AltText
	case "image", "video", "audio", "sticker", "location":
		return v.Type, ""
	default:
		return "other", ""
	}
}

// collectPostbackLabels finds every postback (and date picker) action in a
// message object, anywhere (quick reply items, template actions, Flex
// buttons), and notes what it says for its data: the text a tap puts in
// the customer's chat (displayText), else the button's label (as package
// survey registers its own).
func collectPostbackLabels(raw []byte, into map[string]string) {
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return
	}
	var walk func(any)
	walk = func(x any) {
		switch x := x.(type) {
		case map[string]any:
			typ, _ := x["type"].(string)
			data, _ := x["data"].(string)
			if (typ == "postback" || typ == "datetimepicker") && data != "" {
				label, _ := x["displayText"].(string)
				if strings.TrimSpace(label) == "" {
					label, _ = x["label"].(string)
				}
				if strings.TrimSpace(label) != "" {
					into[data] = label
				}
			}
			for _, c := range x {
				walk(c)
			}
		case []any:
			for _, c := range x {
				walk(c)
			}
		}
	}
	walk(v)
}

// registerPostbackLabels registers the labels of the buttons a message
// object carries.
func registerPostbackLabels(ctx context.Context, tx store.Execer, m line.Message, at int64) error {
	labels := map[string]string{}
	collectPostbackLabels(m.Bytes(), labels)
	for data, label := range labels {
		if err := registerLabel(ctx, tx, data, label, at); err != nil {
			return err
		}
	}
	return nil
}

func registerLabel(ctx context.Context, tx store.Execer, data, label string, at int64) error {
	_, err := tx.ExecContext(ctx, `
		INSERT INTO postback_labels (data, label, created_at) VALUES (?, ?, ?)
		ON CONFLICT (data) DO UPDATE SET label = excluded.label`, data, label, at)
	if err != nil {
		return fmt.Errorf("register postback label: %w", err)
	}
	return nil
}
