package campaign

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"unicode/utf8"

	"tsunagu/internal/clicks"
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
	// Missing says, per placeholder, what a recipient without its value
	// gets; a placeholder used without a rule must resolve for everyone.
	Missing map[string]MissingRule `json:"missing,omitempty"`
	// Untracked are the LINE links sent as written, never through the
	// relay ("do not track", chosen per link in the editor). Every other
	// link of the LINE messages is tracked per recipient while a relay is
	// enrolled (package clicks).
	Untracked []string `json:"untracked,omitempty"`
	// ClickTag, if set, is the tag a customer gets at their first click on
	// a tracked link of this content (package clicks, with the click; the
	// tag is made if it does not exist).
	ClickTag string `json:"clickTag,omitempty"`
}

// MaxClickTag bounds ClickTag (characters).
const MaxClickTag = 50

// LineLinks returns the distinct links of the LINE messages (in text and
// in a Flex card's button), in order, tracked or not.
func (c Content) LineLinks() []string {
	var out []string
	add := func(u string) {
		if u != "" && !contains(out, u) {
			out = append(out, u)
		}
	}
	for _, m := range c.Line {
		switch m.Kind {
		case "text":
			for _, u := range clicks.FindLinks(m.Text) {
				add(u)
			}
		case "flex":
			add(strings.TrimSpace(m.Fields["url"]))
		}
	}
	return out
}

// TrackedLinks returns the LINE links to track: LineLinks less Untracked.
func (c Content) TrackedLinks() []string {
	var out []string
	for _, u := range c.LineLinks() {
		if !contains(c.Untracked, u) {
			out = append(out, u)
		}
	}
	return out
}

// What happens to a recipient who lacks a placeholder's value.
const (
	MissingFallback = "fallback" // the rule's text stands in for the value
	MissingSkip     = "skip"     // the recipient is not sent to (reason SkipPlaceholder)
)

// MissingRule is the choice made for recipients without a placeholder's value.
type MissingRule struct {
	Action string `json:"action"`         // MissingFallback or MissingSkip
	Text   string `json:"text,omitempty"` // the fallback text
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

// ErrPlaceholder means a placeholder has no value for a recipient and no
// rule says what to do instead: nothing is sent with a hole in it.
var ErrPlaceholder = errors.New("campaign: a placeholder has no value for some recipients")

// PlaceholderError names the placeholders some recipients lack, with how
// many lack each (Count is 0 for one recipient at render time).
type PlaceholderError struct {
	Gaps []PlaceholderGap
}

func (e *PlaceholderError) Error() string {
	parts := make([]string, 0, len(e.Gaps))
	for _, g := range e.Gaps {
		parts = append(parts, fmt.Sprintf("%s: %d recipients", g.Token, g.Missing))
	}
	return fmt.Sprintf("%v (%s); choose a fallback text or to skip them", ErrPlaceholder, strings.Join(parts, ", "))
}

func (e *PlaceholderError) Unwrap() error { return ErrPlaceholder }

// Person is what placeholders are filled from.
type Person struct {
	Name, Branch, Staff string
	// Links maps each tracked link to this recipient's tracked URL (nil:
	// links as written).
	Links map[string]string
}

// value is the person's value of a placeholder ("" when they lack it).
func (p Person) value(token string) string {
	switch token {
	case "{氏名}":
		return strings.TrimSpace(p.Name)
	case "{支店}":
		return strings.TrimSpace(p.Branch)
	case "{担当者}":
		return strings.TrimSpace(p.Staff)
	}
	return ""
}

// fill is THE renderer of placeholders (LINE, email, SMS, Flex fields; the
// automations use it through Content too): each placeholder in s becomes
// the person's value, else the fallback text its rule gives. A placeholder
// with neither is an error, never an empty gap in what a customer reads.
func (c Content) fill(s string, p Person) (string, error) {
	var (
		pairs   []string
		missing []PlaceholderGap
	)
	for _, tok := range Placeholders {
		if !strings.Contains(s, tok) {
			continue
		}
		v := p.value(tok)
		if v == "" {
			if r, ok := c.Missing[tok]; ok && r.Action == MissingFallback {
				v = r.Text
			} else {
				missing = append(missing, PlaceholderGap{Token: tok, Missing: 1})
				continue
			}
		}
		pairs = append(pairs, tok, v)
	}
	if len(missing) > 0 {
		return "", &PlaceholderError{Gaps: missing}
	}
	if len(pairs) == 0 {
		return s, nil
	}
	return strings.NewReplacer(pairs...).Replace(s), nil
}

// texts returns every text of channel's content that may hold placeholders.
func (c Content) texts(channel string) []string {
	switch channel {
	case ChannelLine:
		var out []string
		for _, m := range c.Line {
			out = append(out, m.Text)
			for _, v := range m.Fields {
				out = append(out, v)
			}
		}
		return out
	case ChannelEmail:
		return []string{c.Email.Subject, c.Email.Text}
	case ChannelSMS:
		return []string{c.SMS.Text}
	}
	return nil
}

// Tokens returns the placeholders channel's content uses, in Placeholders order.
func (c Content) Tokens(channel string) []string {
	var out []string
	texts := c.texts(channel)
	for _, tok := range Placeholders {
		for _, t := range texts {
			if strings.Contains(t, tok) {
				out = append(out, tok)
				break
			}
		}
	}
	return out
}

// Lacking returns the placeholders of channel's content that p has no
// value for (whatever the rules say about them).
func (c Content) Lacking(channel string, p Person) []string {
	var out []string
	for _, tok := range c.Tokens(channel) {
		if p.value(tok) == "" {
			out = append(out, tok)
		}
	}
	return out
}

// SkipsFor reports whether a recipient lacking tokens is skipped by a rule,
// and which of tokens no rule covers (unresolved: the send must stop).
func (c Content) SkipsFor(tokens []string) (skip bool, unresolved []string) {
	for _, tok := range tokens {
		r, ok := c.Missing[tok]
		switch {
		case ok && r.Action == MissingSkip:
			skip = true
		case ok && r.Action == MissingFallback && strings.TrimSpace(r.Text) != "":
		default:
			unresolved = append(unresolved, tok)
		}
	}
	return skip, unresolved
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
	// maxFallback: the text sent in place of a placeholder a customer lacks.
	maxFallback = 50
)

// Validate checks every channel's content that is used by channels. A wrong
// field is named by its path in Content ("email.subject", "line.0.text"),
// and every wrong field is reported, not just the first.
func (c Content) Validate(channels []string) error {
	var l fielderr.List
	for tok, r := range c.Missing {
		if !contains(Placeholders, tok) {
			return fmt.Errorf("%w: no placeholder %q", ErrInvalid, tok)
		}
		switch r.Action {
		case MissingSkip:
		case MissingFallback:
			// A fallback that is itself empty would be the same hole.
			field := "missing." + tok + ".text"
			switch {
			case strings.TrimSpace(r.Text) == "":
				l.Add(field, fielderr.Required)
			case strings.ContainsAny(r.Text, "\r\n"):
				l.Add(field, fielderr.OneLine)
			case utf8.RuneCountInString(r.Text) > maxFallback:
				l.AddMax(field, fielderr.TooLong, maxFallback)
			case strings.ContainsAny(r.Text, "{}"):
				return fmt.Errorf("%w: the text for customers without %s cannot hold a placeholder", ErrInvalid, tok)
			}
		default:
			return fmt.Errorf("%w: what to do without %s: %q", ErrInvalid, tok, r.Action)
		}
	}
	switch tag := c.ClickTag; {
	case strings.ContainsAny(tag, "\r\n\t"):
		l.Add("clickTag", fielderr.OneLine)
	case utf8.RuneCountInString(tag) > MaxClickTag:
		l.AddMax("clickTag", fielderr.TooLong, MaxClickTag)
	}
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
		raw, err := m.object(c, p)
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

func (m LineMessage) object(c Content, p Person) ([]byte, error) {
	switch m.Kind {
	case "text":
		// Links are swapped in the campaign's own text, before the
		// placeholders are filled: a customer's value that happens to
		// hold a link is never rewritten.
		t, err := c.fill(clicks.ReplaceLinks(m.Text, p.Links), p)
		if err != nil {
			return nil, err
		}
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
		fields := m.Fields
		if tracked, ok := p.Links[strings.TrimSpace(m.Fields["url"])]; ok {
			fields = make(map[string]string, len(m.Fields))
			for k, v := range m.Fields {
				fields[k] = v
			}
			fields["url"] = tracked
		}
		return flexMessage(m.Template, fields, func(v string) (string, error) { return c.fill(v, p) })
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
func (c Content) RenderEmail(p Person) (subject, text string, err error) {
	if subject, err = c.fill(c.Email.Subject, p); err != nil {
		return "", "", err
	}
	if text, err = c.fill(c.Email.Text, p); err != nil {
		return "", "", err
	}
	return subject, text, nil
}

// RenderSMS fills the SMS text's placeholders for one person.
func (c Content) RenderSMS(p Person) (string, error) { return c.fill(c.SMS.Text, p) }

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

// LinkChoice is one link of the LINE messages and whether it is tracked.
type LinkChoice struct {
	URL     string `json:"url"`
	Tracked bool   `json:"tracked"`
}

// LinkPlan is what the editor shows about the links: each link and its
// choice, and whether tracking is possible at all (a relay is enrolled, or
// the sandbox). Without it every link is sent as written.
type LinkPlan struct {
	Available bool         `json:"available"`
	Links     []LinkChoice `json:"links"`
}

// LinkPlan returns the editor's view of the LINE messages' links.
func (c Content) LinkPlan(available bool) LinkPlan {
	p := LinkPlan{Available: available, Links: []LinkChoice{}}
	for _, u := range c.LineLinks() {
		p.Links = append(p.Links, LinkChoice{URL: u, Tracked: available && !contains(c.Untracked, u)})
	}
	return p
}
