package line

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"

	"github.com/line/line-bot-sdk-go/v8/linebot/webhook"
)

// MaxWebhookBody is the largest webhook body Handler reads. LINE's bodies
// are a few KiB even with many events; the limit keeps an unauthenticated
// sender from making the app buffer arbitrary amounts before the signature
// check can reject it.
const MaxWebhookBody = 1 << 20

// Errors from Verifier.Parse.
var (
	// ErrBadSignature means the body was not signed with the channel
	// secret: forged, altered, unsigned, or the secret is wrong.
	ErrBadSignature = errors.New("invalid webhook signature")
	// ErrMalformedWebhook means the signature was valid but the body is
	// not a webhook LINE's SDK can parse.
	ErrMalformedWebhook = errors.New("malformed webhook body")
)

// Webhook is a verified, parsed webhook body: the SDK's CallbackRequest plus
// what SDK v8.14.0 (the newest published) does not decode yet.
type Webhook struct {
	*webhook.CallbackRequest
	// MarkAsReadTokens maps the webhookEventId of each message event that
	// carried one to its message.markAsReadToken, the token
	// Client.MarkAsReadByToken takes. Read from the raw body because the
	// SDK's message types have no such field; nil if none.
	MarkAsReadTokens map[string]string
	// RawEvents holds each event of Events as it stood in the body, same
	// index: what a dead letter keeps so the event can be processed again.
	RawEvents []json.RawMessage
	// Malformed are the events of a signed body that the SDK could not
	// parse on their own (a wrong field type, say); the body's other
	// events are in Events. The inbox keeps them as dead letters.
	Malformed []MalformedEvent
}

// MalformedEvent is one event of a verified body that could not be parsed.
type MalformedEvent struct {
	Raw    json.RawMessage
	Reason string // the decoder's complaint; never holds the event's text
}

// Verifier checks webhook bodies against a channel secret and parses them.
// It is safe for concurrent use.
type Verifier struct {
	secret   string
	rejected atomic.Int64
}

// NewVerifier returns a Verifier for the channel with the given secret. An
// empty secret makes every body fail verification: with no key, anyone
// could compute a valid signature.
func NewVerifier(channelSecret string) *Verifier {
	return &Verifier{secret: channelSecret}
}

// Parse verifies signature (the x-line-signature header: base64 of the
// HMAC-SHA256 of body keyed with the channel secret) and only then parses
// body with the SDK. A bad signature returns ErrBadSignature; a valid
// signature over an unparseable body returns an error wrapping
// ErrMalformedWebhook. Both count as rejected.
func (v *Verifier) Parse(body []byte, signature string) (*Webhook, error) {
	if v.secret == "" || signature == "" || !webhook.ValidateSignature(v.secret, signature, body) {
		v.rejected.Add(1)
		return nil, ErrBadSignature
	}
	// json.Unmarshal drives the SDK's own decoders (CallbackRequest's
	// UnmarshalJSON and the event discriminators). webhook.ParseRequest
	// is not used because its error message embeds the whole body.
	var cb webhook.CallbackRequest
	if err := json.Unmarshal(body, &cb); err != nil {
		v.rejected.Add(1)
		return nil, fmt.Errorf("%w: %s", ErrMalformedWebhook, describeJSONErr(err))
	}
	wh := &Webhook{CallbackRequest: &cb, MarkAsReadTokens: markAsReadTokens(body)}
	wh.RawEvents = rawEvents(body, len(cb.Events))
	return wh, nil
}

// rawEvents splits a parsed body into its events' raw JSON; nil if they do
// not line up with the n the SDK parsed.
func rawEvents(body []byte, n int) []json.RawMessage {
	var split struct {
		Events []json.RawMessage `json:"events"`
	}
	if json.Unmarshal(body, &split) != nil || len(split.Events) != n {
		return nil
	}
	return split.Events
}

// ParseVerified parses a body whose signature was already checked: one
// Parse refused as malformed, or a dead letter kept in the encrypted DB.
// Unlike Parse, an event the SDK cannot parse does not sink the others: the
// body is split into its events, each is parsed alone, and the ones that
// fail are returned in Malformed. Only a body that is not a webhook at all (not a
// JSON object with an events array) is an error wrapping
// ErrMalformedWebhook.
func ParseVerified(body []byte) (*Webhook, error) {
	var split struct {
		Destination string            `json:"destination"`
		Events      []json.RawMessage `json:"events"`
	}
	if err := json.Unmarshal(body, &split); err != nil {
		return nil, fmt.Errorf("%w: %s", ErrMalformedWebhook, describeJSONErr(err))
	}
	if split.Events == nil && !hasEventsKey(body) {
		return nil, fmt.Errorf("%w: no events array", ErrMalformedWebhook)
	}
	var cb webhook.CallbackRequest
	wh := &Webhook{CallbackRequest: &cb, MarkAsReadTokens: markAsReadTokens(body)}
	if err := json.Unmarshal(body, &cb); err == nil && len(cb.Events) == len(split.Events) {
		wh.RawEvents = split.Events
		return wh, nil
	}
	cb = webhook.CallbackRequest{Destination: split.Destination, Events: []webhook.EventInterface{}}
	for _, raw := range split.Events {
		ev, err := parseEvent(split.Destination, raw)
		if err != nil {
			wh.Malformed = append(wh.Malformed, MalformedEvent{Raw: raw, Reason: describeJSONErr(err)})
			continue
		}
		cb.Events = append(cb.Events, ev)
		wh.RawEvents = append(wh.RawEvents, raw)
	}
	return wh, nil
}

// parseEvent parses one event with the SDK's decoders.
func parseEvent(destination string, raw json.RawMessage) (webhook.EventInterface, error) {
	body, err := json.Marshal(struct {
		Destination string            `json:"destination"`
		Events      []json.RawMessage `json:"events"`
	}{destination, []json.RawMessage{raw}})
	if err != nil {
		return nil, err
	}
	var cb webhook.CallbackRequest
	if err := json.Unmarshal(body, &cb); err != nil {
		return nil, err
	}
	if len(cb.Events) != 1 {
		return nil, errors.New("not one event")
	}
	return cb.Events[0], nil
}

func hasEventsKey(body []byte) bool {
	var m map[string]json.RawMessage
	if json.Unmarshal(body, &m) != nil {
		return false
	}
	_, ok := m["events"]
	return ok
}

// describeJSONErr names what is wrong without quoting the input: a JSON
// syntax error's message can hold a piece of the body.
func describeJSONErr(err error) string {
	if se, ok := errors.AsType[*json.SyntaxError](err); ok {
		return fmt.Sprintf("invalid JSON at byte %d", se.Offset)
	}
	if te, ok := errors.AsType[*json.UnmarshalTypeError](err); ok {
		return fmt.Sprintf("field %q has the wrong type (%s)", te.Field, te.Value)
	}
	if strings.Contains(err.Error(), "exceeded max depth") {
		return "JSON nested too deeply"
	}
	return "not a webhook event the SDK can read"
}

// LooksLikeWebhook reports whether body has a webhook's shape (a JSON
// object with an events array), whatever its signature. It tells junk
// posted to the webhook URL apart from a forgery of a real webhook.
func LooksLikeWebhook(body []byte) bool {
	var shape struct {
		Events []json.RawMessage `json:"events"`
	}
	return json.Unmarshal(body, &shape) == nil && shape.Events != nil
}

// markAsReadTokens reads message.markAsReadToken of each message event from
// the raw (already verified) body. The token is optional: a body it cannot
// be read from yields none, and the events stand as the SDK parsed them.
func markAsReadTokens(body []byte) map[string]string {
	if !bytes.Contains(body, []byte(`"markAsReadToken"`)) {
		return nil // most bodies: no second parse
	}
	var raw struct {
		Events []struct {
			Type           string `json:"type"`
			WebhookEventID string `json:"webhookEventId"`
			Message        *struct {
				MarkAsReadToken string `json:"markAsReadToken"`
			} `json:"message"`
		} `json:"events"`
	}
	if json.Unmarshal(body, &raw) != nil {
		return nil
	}
	var out map[string]string
	for _, ev := range raw.Events {
		if ev.Type != "message" || ev.WebhookEventID == "" || ev.Message == nil || ev.Message.MarkAsReadToken == "" {
			continue
		}
		if out == nil {
			out = map[string]string{}
		}
		out[ev.WebhookEventID] = ev.Message.MarkAsReadToken
	}
	return out
}

// Rejected returns how many bodies have been rejected: bad or missing
// signatures, malformed bodies, and (through Handler) oversized ones. A
// rising count means someone is posting to the webhook URL who does not
// hold the channel secret, or the configured secret is wrong.
func (v *Verifier) Rejected() int64 { return v.rejected.Load() }

// Handler returns the webhook endpoint. It accepts only POST (405
// otherwise), reads at most MaxWebhookBody bytes (413 beyond), and answers
// 400 to a body that fails Parse. A verified body goes to sink, and the
// answer is 200 only once sink returns nil: sink is expected to have
// committed the events by then. If sink fails the answer is 500, so LINE (or
// the relay) delivers the webhook again. The body is never logged.
func (v *Verifier) Handler(sink func(ctx context.Context, req *Webhook) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		if r.ContentLength > MaxWebhookBody {
			v.rejected.Add(1)
			http.Error(w, "request body too large", http.StatusRequestEntityTooLarge)
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxWebhookBody))
		if err != nil {
			if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
				v.rejected.Add(1)
				http.Error(w, "request body too large", http.StatusRequestEntityTooLarge)
				return
			}
			// The sender went away mid-body; it will redeliver.
			http.Error(w, "could not read request body", http.StatusBadRequest)
			return
		}
		cb, err := v.Parse(body, r.Header.Get("X-Line-Signature"))
		if err != nil {
			if errors.Is(err, ErrBadSignature) {
				http.Error(w, "invalid signature", http.StatusBadRequest)
			} else {
				http.Error(w, "malformed webhook body", http.StatusBadRequest)
			}
			return
		}
		if err := sink(r.Context(), cb); err != nil {
			http.Error(w, "webhook not stored", http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusOK)
	})
}
