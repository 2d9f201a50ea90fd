package campaign

import (
	"encoding/json"
	"strings"
)

// ContentPreview is content rendered for the editor's phone-like preview:
// for the worst case among the recipients, not a flattering sample.
type ContentPreview struct {
	Line         []json.RawMessage `json:"line"` // LINE message objects as sent
	EmailSubject string            `json:"emailSubject"`
	EmailText    string            `json:"emailText"`
	SMSText      string            `json:"smsText"`
	SMSLength    SMSLength         `json:"smsLength"`
	Templates    []Template        `json:"templates"`
	Placeholders []string          `json:"placeholders"`
	Errors       map[string]string `json:"errors"` // channel -> message code of what is wrong
	Sample       PreviewUser       `json:"sample"`
	// Unresolved are the placeholders of lacking that no rule covers: the
	// preview marks them, and the campaign cannot be approved or sent.
	Unresolved []string `json:"unresolved"`
}

// unresolvedMark stands in the preview where a recipient would get a hole.
func unresolvedMark(token string) string {
	return "［" + strings.Trim(token, "{}") + "なし］"
}

// PreviewContent renders content for the worst case: the sample customer
// without the placeholders in lacking (those some recipients have no value
// for, from the plan). Such a placeholder shows its fallback text, or a
// mark when nothing covers it; a rule that skips those recipients shows
// the sample (they receive nothing). Each channel that has content is
// validated; what is wrong is returned per channel and Errors is left empty
// for the caller, which owns the message codes.
func PreviewContent(content Content, lacking []string) (ContentPreview, map[string]error) {
	sample := SamplePerson()
	worst := sample
	marks := Content{Line: content.Line, Email: content.Email, SMS: content.SMS, Missing: map[string]MissingRule{}}
	for k, v := range content.Missing {
		marks.Missing[k] = v
	}
	var unresolved []string
	for _, tok := range lacking {
		if !contains(Placeholders, tok) {
			continue
		}
		skip, open := content.SkipsFor([]string{tok})
		if skip {
			continue
		}
		switch tok {
		case "{氏名}":
			worst.Name = ""
		case "{支店}":
			worst.Branch = ""
		case "{担当者}":
			worst.Staff = ""
		}
		if len(open) > 0 {
			unresolved = append(unresolved, tok)
			marks.Missing[tok] = MissingRule{Action: MissingFallback, Text: unresolvedMark(tok)}
		}
	}
	p := ContentPreview{Line: []json.RawMessage{}, Templates: Templates, Placeholders: Placeholders,
		Errors: map[string]string{}, Sample: PreviewUser{Name: worst.Name, Branch: worst.Branch, Staff: worst.Staff},
		Unresolved: append([]string{}, unresolved...)}
	problems := map[string]error{}
	if len(content.Line) > 0 {
		msgs, err := marks.RenderLine(worst)
		if err != nil {
			problems[ChannelLine] = err
		}
		for _, m := range msgs {
			p.Line = append(p.Line, json.RawMessage(m.Bytes()))
		}
	}
	p.EmailSubject, p.EmailText, _ = marks.RenderEmail(worst)
	// An untouched channel is not an error: the editor shows its
	// problems only once something was written for it.
	if content.Email.Subject != "" || content.Email.Text != "" {
		if err := content.Validate([]string{ChannelEmail}); err != nil {
			problems[ChannelEmail] = err
		}
	}
	p.SMSText, _ = marks.RenderSMS(worst)
	p.SMSLength = MeasureSMS(p.SMSText)
	if content.SMS.Text != "" {
		if err := content.Validate([]string{ChannelSMS}); err != nil {
			problems[ChannelSMS] = err
		}
	}
	return p, problems
}
