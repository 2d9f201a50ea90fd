package line

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/line/line-bot-sdk-go/v8/linebot/messaging_api"
)

// Limits LINE applies to message objects and sends.
const (
	MaxMessages            = 5     // message objects per push, reply or multicast
	MaxMulticastRecipients = 500   // user IDs per multicast
	MaxAltTextLength       = 1500  // flex and imagemap altText, characters
	MaxTemplateAltText     = 400   // template altText, characters
	MaxFlexBubbleBytes     = 30000 // one flex bubble, JSON
	MaxFlexCarouselBytes   = 50000 // a flex carousel, JSON
	MaxFlexCarouselBubbles = 12
)

// ErrInvalidMessage is wrapped by every local validation failure.
var ErrInvalidMessage = errors.New("line: invalid message")

// Message is one LINE message object, held as the exact compact JSON that
// goes on the wire. Features persist Bytes and rebuild the Message with
// ParseMessage, so a resend after a crash is byte-identical to the first
// request. It implements the SDK's MessageInterface, so the SDK sends it
// unchanged.
type Message struct {
	typ string
	raw []byte
}

// NewMessage encodes one of the SDK's message types (pass a pointer, e.g.
// &messaging_api.TextMessage{...}: the SDK adds the "type" only then) and
// checks it with the local rules.
func NewMessage(m messaging_api.MessageInterface) (Message, error) {
	raw, err := json.Marshal(m)
	if err != nil {
		return Message{}, fmt.Errorf("%w: encode: %w", ErrInvalidMessage, err)
	}
	return ParseMessage(raw)
}

// ParseMessage takes a message object as JSON (e.g. from the DB) and checks
// it with the local rules.
func ParseMessage(raw []byte) (Message, error) {
	var buf bytes.Buffer
	if err := json.Compact(&buf, raw); err != nil {
		return Message{}, fmt.Errorf("%w: %w", ErrInvalidMessage, err)
	}
	var head struct {
		Type string `json:"type"`
	}
	if err := json.Unmarshal(buf.Bytes(), &head); err != nil || head.Type == "" {
		return Message{}, fmt.Errorf("%w: no type", ErrInvalidMessage)
	}
	m := Message{typ: head.Type, raw: buf.Bytes()}
	if err := m.validate(); err != nil {
		return Message{}, err
	}
	return m, nil
}

// ParseSDKMessage is ParseMessage for message objects built outside this
// package (a campaign's Flex JSON): the SDK must also be able to read it
// back as one of its message types.
func ParseSDKMessage(raw []byte) (Message, error) {
	if _, err := messaging_api.UnmarshalMessage(raw); err != nil {
		return Message{}, fmt.Errorf("%w: %w", ErrInvalidMessage, err)
	}
	return ParseMessage(raw)
}

// Image returns an image message from the HTTPS URLs LINE fetches it from.
func Image(originalURL, previewURL string) (Message, error) {
	return NewMessage(&messaging_api.ImageMessage{OriginalContentUrl: originalURL, PreviewImageUrl: previewURL})
}

// Text returns a text message; see ValidateText for its rules.
func Text(text string) (Message, error) {
	if err := ValidateText(text); err != nil {
		return Message{}, err
	}
	return NewMessage(&messaging_api.TextMessage{Text: text})
}

// Sticker returns a sticker message.
func Sticker(packageID, stickerID string) (Message, error) {
	return NewMessage(&messaging_api.StickerMessage{PackageId: packageID, StickerId: stickerID})
}

// Type is the message object's "type" (text, sticker, image, flex, ...).
func (m Message) Type() string { return m.typ }

// GetType implements the SDK's MessageInterface.
func (m Message) GetType() string { return m.typ }

// Bytes returns the message object's JSON. The caller must not modify it.
func (m Message) Bytes() []byte { return m.raw }

// MarshalJSON returns the stored JSON unchanged.
func (m Message) MarshalJSON() ([]byte, error) {
	if m.raw == nil {
		return nil, errors.New("line: zero Message")
	}
	return m.raw, nil
}

// MarshalMessages encodes messages as one JSON array, for storage.
func MarshalMessages(msgs []Message) ([]byte, error) {
	return json.Marshal(msgs)
}

// UnmarshalMessages decodes a JSON array stored by MarshalMessages.
func UnmarshalMessages(data []byte) ([]Message, error) {
	var raws []json.RawMessage
	if err := json.Unmarshal(data, &raws); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidMessage, err)
	}
	out := make([]Message, 0, len(raws))
	for _, r := range raws {
		m, err := ParseMessage(r)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, nil
}

// ValidateMessages applies the local rules to one request's messages:
// between 1 and MaxMessages, each valid. LINE's validate endpoints
// (Client.Validate) check everything else.
func ValidateMessages(msgs []Message) error {
	if len(msgs) == 0 || len(msgs) > MaxMessages {
		return fmt.Errorf("%w: %d messages, want 1 to %d", ErrInvalidMessage, len(msgs), MaxMessages)
	}
	for i, m := range msgs {
		if m.raw == nil {
			return fmt.Errorf("%w: messages[%d] is empty", ErrInvalidMessage, i)
		}
		if err := m.validate(); err != nil {
			return fmt.Errorf("messages[%d]: %w", i, err)
		}
	}
	return nil
}

// validate checks the limits LINE documents for the message's type. It
// never quotes the content in its errors.
func (m Message) validate() error {
	var f struct {
		Text     *string         `json:"text"`
		AltText  *string         `json:"altText"`
		Contents json.RawMessage `json:"contents"`
	}
	if err := json.Unmarshal(m.raw, &f); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidMessage, err)
	}
	switch m.typ {
	case "text":
		if f.Text == nil {
			return ErrTextEmpty
		}
		return ValidateText(*f.Text)
	case "flex":
		if err := checkAltText(f.AltText, MaxAltTextLength); err != nil {
			return err
		}
		return checkFlexContents(f.Contents)
	case "imagemap":
		return checkAltText(f.AltText, MaxAltTextLength)
	case "template":
		return checkAltText(f.AltText, MaxTemplateAltText)
	}
	return nil
}

func checkAltText(alt *string, limit int) error {
	if alt == nil || *alt == "" {
		return fmt.Errorf("%w: altText is empty", ErrInvalidMessage)
	}
	if n := len([]rune(*alt)); n > limit {
		return fmt.Errorf("%w: altText has %d characters, at most %d", ErrInvalidMessage, n, limit)
	}
	return nil
}

func checkFlexContents(contents json.RawMessage) error {
	var c struct {
		Type     string            `json:"type"`
		Contents []json.RawMessage `json:"contents"`
	}
	if len(contents) == 0 || json.Unmarshal(contents, &c) != nil {
		return fmt.Errorf("%w: flex contents missing", ErrInvalidMessage)
	}
	switch c.Type {
	case "bubble":
		if len(contents) > MaxFlexBubbleBytes {
			return fmt.Errorf("%w: flex bubble is %d bytes, at most %d", ErrInvalidMessage, len(contents), MaxFlexBubbleBytes)
		}
	case "carousel":
		if n := len(c.Contents); n == 0 || n > MaxFlexCarouselBubbles {
			return fmt.Errorf("%w: carousel has %d bubbles, want 1 to %d", ErrInvalidMessage, n, MaxFlexCarouselBubbles)
		}
		if len(contents) > MaxFlexCarouselBytes {
			return fmt.Errorf("%w: carousel is %d bytes, at most %d", ErrInvalidMessage, len(contents), MaxFlexCarouselBytes)
		}
		for i, b := range c.Contents {
			if len(b) > MaxFlexBubbleBytes {
				return fmt.Errorf("%w: carousel bubble %d is %d bytes, at most %d", ErrInvalidMessage, i, len(b), MaxFlexBubbleBytes)
			}
		}
	default:
		return fmt.Errorf("%w: flex contents type must be bubble or carousel", ErrInvalidMessage)
	}
	return nil
}
