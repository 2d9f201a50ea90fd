package linesim

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
)

// PhoneAction is a button the customer can tap on a delivered message: a
// quick reply item (shown under the latest message only, and gone once the
// customer sends anything, as on LINE) or a button of a Flex or template
// message (tappable for as long as the message is in the chat).
type PhoneAction struct {
	Delivery   int    `json:"delivery"` // index in Deliveries(userID)
	Index      int    `json:"index"`    // index among that delivery's actions
	Type       string `json:"type"`     // postback, datetimepicker, message, uri
	Label      string `json:"label"`
	Data       string `json:"data,omitempty"`        // postback and datetimepicker
	Text       string `json:"text,omitempty"`        // message action: what the customer sends
	Display    string `json:"displayText,omitempty"` // postback: what the chat shows as sent
	Mode       string `json:"mode,omitempty"`        // datetimepicker: date, time, datetime
	QuickReply bool   `json:"quickReply"`
}

// ErrNoAction means the customer's phone shows no such button.
var ErrNoAction = errors.New("linesim: no such button on the customer's phone")

// Actions lists the buttons the customer's phone shows now.
func (s *Server) Actions(userID string) []PhoneAction {
	s.mu.Lock()
	c, ok := s.customers[userID]
	if !ok {
		s.mu.Unlock()
		return nil
	}
	deliveries := append([]Delivery(nil), c.deliveries...)
	lastFromOfficial := len(c.chat) > 0 && c.chat[len(c.chat)-1].From == FromOfficial
	s.mu.Unlock()
	var out []PhoneAction
	for i, d := range deliveries {
		quick := lastFromOfficial && i == len(deliveries)-1
		out = append(out, messageActions(i, d.Message, quick)...)
	}
	return out
}

// messageActions finds the actions of one message object.
func messageActions(delivery int, raw []byte, withQuick bool) []PhoneAction {
	var m struct {
		QuickReply *struct {
			Items []struct {
				Action json.RawMessage `json:"action"`
			} `json:"items"`
		} `json:"quickReply"`
		Contents json.RawMessage `json:"contents"`
		Template json.RawMessage `json:"template"`
	}
	if json.Unmarshal(raw, &m) != nil {
		return nil
	}
	var out []PhoneAction
	add := func(rawAction json.RawMessage, quick bool) {
		var a struct {
			Type        string `json:"type"`
			Label       string `json:"label"`
			Data        string `json:"data"`
			Text        string `json:"text"`
			DisplayText string `json:"displayText"`
			Mode        string `json:"mode"`
		}
		if json.Unmarshal(rawAction, &a) != nil || a.Type == "" {
			return
		}
		out = append(out, PhoneAction{Delivery: delivery, Index: len(out), Type: a.Type, Label: a.Label, Data: a.Data, Text: a.Text,
			Display: a.DisplayText, Mode: a.Mode, QuickReply: quick})
	}
	var walk func(v any)
	walk = func(v any) {
		switch t := v.(type) {
		case map[string]any:
			if a, ok := t["action"].(map[string]any); ok {
				b, _ := json.Marshal(a)
				add(b, false)
			}
			if as, ok := t["actions"].([]any); ok { // template buttons
				for _, a := range as {
					b, _ := json.Marshal(a)
					add(b, false)
				}
			}
			// Header, hero, body, footer: in the bubble's order, not
			// the map's, so indexes are stable.
			keys := make([]string, 0, len(t))
			for k := range t {
				keys = append(keys, k)
			}
			sort.Slice(keys, func(i, j int) bool {
				return keyRank(keys[i]) < keyRank(keys[j]) || keyRank(keys[i]) == keyRank(keys[j]) && keys[i] < keys[j]
			})
			for _, k := range keys {
				if k != "action" && k != "actions" {
					walk(t[k])
				}
			}
		case []any:
			for _, c := range t {
				walk(c)
			}
		}
	}
	for _, part := range []json.RawMessage{m.Contents, m.Template} {
		if len(part) > 0 {
			var v any
			if json.Unmarshal(part, &v) == nil {
				walk(v)
			}
		}
	}
	if withQuick && m.QuickReply != nil {
		for _, it := range m.QuickReply.Items {
			add(it.Action, true)
		}
	}
	return out
}

// Tap has the customer tap a button Actions lists: a postback button sends
// its postback event (the chat shows its displayText or label), a datetime
// picker sends its postback with the picked value in params (value is
// "2026-05-01", "10:30" or "2026-05-01T10:30" by the picker's mode), a
// message button sends its text. It returns the webhook event ID.
func (s *Server) Tap(ctx context.Context, userID string, delivery, index int, value string) (string, error) {
	var act *PhoneAction
	for _, a := range s.Actions(userID) {
		if a.Delivery == delivery && a.Index == index {
			act = &a
			break
		}
	}
	if act == nil {
		return "", ErrNoAction
	}
	switch act.Type {
	case "postback":
		shown := act.Display
		if shown == "" {
			shown = act.Label
		}
		return s.Postback(ctx, userID, shown, act.Data)
	case "datetimepicker":
		key := act.Mode
		if key == "" {
			key = "datetime"
		}
		if value == "" {
			return "", fmt.Errorf("linesim: the picker needs a %s", key)
		}
		return s.PostbackParams(ctx, userID, value, act.Data, map[string]string{key: value})
	case "message":
		return s.SendText(ctx, userID, act.Text)
	}
	return "", fmt.Errorf("linesim: %s buttons are not simulated", act.Type)
}

// PostbackParams is Postback with params, as a datetime picker sends them
// ({"date": "2026-05-01"}); label is what the phone shows.
func (s *Server) PostbackParams(ctx context.Context, userID, label, data string, params map[string]string) (string, error) {
	return s.customerEvent(ctx, userID, "postback", true, PhoneMessage{Type: "postback", Text: label},
		func(ev *wireEvent) { ev.Postback = &wirePostback{Data: data, Params: params} })
}

func keyRank(k string) int {
	switch k {
	case "header":
		return 0
	case "hero":
		return 1
	case "body":
		return 2
	case "footer":
		return 3
	}
	return 4
}
