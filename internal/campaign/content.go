package campaign

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"unicode/utf8"

	"tsunagu/internal/fielderr"
	"tsunagu/internal/line"
)

// ErrInvalid wraps every validation failure of a campaign's content, plan
// or schedule.
var ErrInvalid = errors.New("campaign: invalid")

// Content is what a campaign sends on each channel.
type Content struct {
	Line  []LineMessage `json:"line"`
	Email Email         `json:"email"`
	SMS   SMS           `json:"sms"`
}

// LineMessage is one of up to five LINE messages.
type LineMessage struct {
	Kind       string            `json:"kind"`                 // text, image, flex
	Text       string            `json:"text,omitempty"`       // text; may hold placeholders
	ImageURL   string            `json:"imageUrl,omitempty"`   // image: https URL (JPEG/PNG)
	PreviewURL string            `json:"previewUrl,omitempty"` // image preview; "" uses ImageURL
	Template   string            `json:"template,omitempty"`   // flex: a built-in template name
	Fields     map[string]string `json:"fields,omitempty"`     // flex: the template's fields
}

// Email is the email version.
type Email struct {
	Subject string `json:"subject"`
	Text    string `json:"text"`
}

// SMS is the SMS version.
type SMS struct {
	Text string `json:"text"`
}

// Personalisation placeholders and the customer fields they take.
var Placeholders = []string{"{氏名}", "{支店}", "{担当者}"}

// Person is what placeholders are filled from.
type Person struct {
	Name, Branch, Staff string
}

func (p Person) fill(s string) string {
	return strings.NewReplacer("{氏名}", p.Name, "{支店}", p.Branch, "{担当者}", p.Staff).Replace(s)
}

// SMS length: a message with any character outside GSM 7-bit is sent as
// UCS-2, 70 characters in one part and 67 per part when split. Japanese
// always is. Carriers in Japan join at most 10 parts (660 characters in
// UCS-2 via most providers); Tsunagu allows 4 parts (268 characters): past
// that, a message costs more than it is worth and some phones show it split.
const (
	SMSSinglePart = 70
	SMSMultiPart  = 67
	SMSMaxParts   = 4
	smsGSMSingle  = 160
	smsGSMMulti   = 153
)

// SMSLength describes an SMS text's length for the counter.
type SMSLength struct {
	Chars    int  `json:"chars"`
	Parts    int  `json:"parts"`
	UCS2     bool `json:"ucs2"`
	MaxChars int  `json:"maxChars"`
	TooLong  bool `json:"tooLong"`
}

// MeasureSMS counts an SMS text as the carrier bills it.
func MeasureSMS(text string) SMSLength {
	n := utf8.RuneCountInString(text)
	ucs2 := strings.ContainsFunc(text, func(r rune) bool { return r > 0x7e || r < 0x20 && r != '\n' && r != '\r' })
	single, multi := smsGSMSingle, smsGSMMulti
	if ucs2 {
		single, multi = SMSSinglePart, SMSMultiPart
		// Characters outside the BMP take two UCS-2 units.
		for _, r := range text {
			if r > 0xffff {
				n++
			}
		}
	}
	l := SMSLength{Chars: n, UCS2: ucs2, MaxChars: multi * SMSMaxParts, Parts: 1}
	if n > single {
		l.Parts = (n + multi - 1) / multi
	}
	l.TooLong = l.Parts > SMSMaxParts
	return l
}

// Limits of the other fields.
const (
	maxSubject   = 200
	maxEmailText = 20000
)

// Validate checks every channel's content that is used by channels. A wrong
// field is named by its path in Content ("email.subject", "line.0.text"),
// and every wrong field is reported, not just the first.
func (c Content) Validate(channels []string) error {
	var l fielderr.List
	for _, ch := range channels {
		switch ch {
		case ChannelLine:
			if len(c.Line) == 0 {
				l.Add("line", fielderr.Required)
				continue
			}
			if len(c.Line) > line.MaxMessages {
				l.AddMax("line", fielderr.TooMany, line.MaxMessages)
				continue
			}
			// Rendered with a long sample name, so that a personalised
			// text still fits LINE's limits for real names.
			if _, err := c.RenderLine(Person{Name: strings.Repeat("長", 40), Branch: "本店営業部", Staff: "担当 太郎"}); err != nil {
				if !l.Merge(err) {
					return err
				}
			}
		case ChannelEmail:
			subject := strings.TrimSpace(c.Email.Subject)
			switch {
			case subject == "":
				l.Add("email.subject", fielderr.Required)
			case strings.ContainsAny(c.Email.Subject, "\r\n"):
				l.Add("email.subject", fielderr.OneLine)
			case utf8.RuneCountInString(c.Email.Subject) > maxSubject:
				l.AddMax("email.subject", fielderr.TooLong, maxSubject)
			}
			switch {
			case strings.TrimSpace(c.Email.Text) == "":
				l.Add("email.text", fielderr.Required)
			case utf8.RuneCountInString(c.Email.Text) > maxEmailText:
				l.AddMax("email.text", fielderr.TooLong, maxEmailText)
			}
		case ChannelSMS:
			if strings.TrimSpace(c.SMS.Text) == "" {
				l.Add("sms.text", fielderr.Required)
			} else if m := MeasureSMS(c.SMS.Text); m.TooLong {
				l.AddMax("sms.text", fielderr.SMSParts, SMSMaxParts)
			}
		default:
			return fmt.Errorf("%w: channel %q", ErrInvalid, ch)
		}
	}
	return l.Err(ErrInvalid)
}

// LinePersonalised reports whether the LINE messages differ per customer.
func (c Content) LinePersonalised() bool { return c.LineUses(Placeholders...) }

// LineUses reports whether the LINE messages hold any of placeholders.
func (c Content) LineUses(placeholders ...string) bool {
	uses := func(s string) bool {
		for _, p := range placeholders {
			if strings.Contains(s, p) {
				return true
			}
		}
		return false
	}
	for _, m := range c.Line {
		if uses(m.Text) {
			return true
		}
		for _, v := range m.Fields {
			if uses(v) {
				return true
			}
		}
	}
	return false
}

// RenderLine builds the LINE messages for one person, checked with the
// SDK's types and the LINE layer's rules.
func (c Content) RenderLine(p Person) ([]line.Message, error) {
	out := make([]line.Message, 0, len(c.Line))
	for i, m := range c.Line {
		raw, err := m.object(p)
		if err != nil {
			return nil, fielderr.Under(fmt.Sprintf("line.%d", i), fmt.Errorf("LINE message %d: %w", i+1, err))
		}
		// The SDK must be able to read it back as one of its types.
		msg, err := line.ParseSDKMessage(raw)
		if err != nil {
			return nil, fmt.Errorf("%w: LINE message %d: %w", ErrInvalid, i+1, err)
		}
		out = append(out, msg)
	}
	if err := line.ValidateMessages(out); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	return out, nil
}

func (m LineMessage) object(p Person) ([]byte, error) {
	switch m.Kind {
	case "text":
		t := p.fill(m.Text)
		if err := line.ValidateText(t); err != nil {
			switch {
			case errors.Is(err, line.ErrTextEmpty):
				err = fmt.Errorf("%w: %w", err, &fielderr.Error{Fields: []fielderr.FieldError{{Field: "text", Code: fielderr.Required}}})
			case errors.Is(err, line.ErrTextTooLong):
				// LINE counts UTF-16 units; a clerk's characters are close enough for the hint.
				err = fmt.Errorf("%w: %w", err, &fielderr.Error{Fields: []fielderr.FieldError{{Field: "text", Code: fielderr.TooLong, Max: line.MaxTextLength}}})
			}
			return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
		}
		return json.Marshal(map[string]string{"type": "text", "text": t})
	case "image":
		preview := m.PreviewURL
		if preview == "" {
			preview = m.ImageURL
		}
		if err := checkHTTPS(m.ImageURL); err != nil {
			return nil, fielderr.Under("imageUrl", err)
		}
		if err := checkHTTPS(preview); err != nil {
			return nil, fielderr.Under("previewUrl", err)
		}
		return json.Marshal(map[string]string{"type": "image", "originalContentUrl": m.ImageURL, "previewImageUrl": preview})
	case "flex":
		return flexMessage(m.Template, m.Fields, p)
	}
	return nil, fmt.Errorf("%w: message kind %q", ErrInvalid, m.Kind)
}

func checkHTTPS(u string) error {
	parsed, err := url.Parse(u)
	if err != nil || parsed.Scheme != "https" || parsed.Host == "" || len(u) > 2000 {
		// The field is the caller's (Under): an image, preview or link URL.
		return fmt.Errorf("%w: URL must be an https URL of at most 2000 characters: %w", ErrInvalid,
			&fielderr.Error{Fields: []fielderr.FieldError{{Field: "", Code: fielderr.HTTPS}}})
	}
	return nil
}

// RenderEmail fills the email's placeholders for one person.
func (c Content) RenderEmail(p Person) (subject, text string) {
	return p.fill(c.Email.Subject), p.fill(c.Email.Text)
}

// RenderSMS fills the SMS text's placeholders for one person.
func (c Content) RenderSMS(p Person) string { return p.fill(c.SMS.Text) }

// PreviewUser is the sample customer a preview is rendered for.
type PreviewUser struct {
	Name   string `json:"name"`
	Branch string `json:"branch"`
	Staff  string `json:"staff"`
}

// SamplePerson is the sample customer of previews.
func SamplePerson() Person {
	return Person{Name: "山田 花子", Branch: "本店営業部", Staff: "佐藤"}
}
