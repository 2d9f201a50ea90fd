package campaign

import "encoding/json"

// ContentPreview is content rendered for the sample customer, for the
// editor's phone-like preview.
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
}

// PreviewContent renders content for SamplePerson and validates each
// channel that has content. What is wrong is returned per channel; Errors
// is left empty for the caller, which owns the message codes.
func PreviewContent(content Content) (ContentPreview, map[string]error) {
	sample := SamplePerson()
	p := ContentPreview{Line: []json.RawMessage{}, Templates: Templates, Placeholders: Placeholders,
		Errors: map[string]string{}, Sample: PreviewUser{Name: sample.Name, Branch: sample.Branch, Staff: sample.Staff}}
	problems := map[string]error{}
	if len(content.Line) > 0 {
		msgs, err := content.RenderLine(sample)
		if err != nil {
			problems[ChannelLine] = err
		}
		for _, m := range msgs {
			p.Line = append(p.Line, json.RawMessage(m.Bytes()))
		}
	}
	p.EmailSubject, p.EmailText = content.RenderEmail(sample)
	// An untouched channel is not an error: the editor shows its
	// problems only once something was written for it.
	if content.Email.Subject != "" || content.Email.Text != "" {
		if err := content.Validate([]string{ChannelEmail}); err != nil {
			problems[ChannelEmail] = err
		}
	}
	p.SMSText = content.RenderSMS(sample)
	p.SMSLength = MeasureSMS(p.SMSText)
	if content.SMS.Text != "" {
		if err := content.Validate([]string{ChannelSMS}); err != nil {
			problems[ChannelSMS] = err
		}
	}
	return p, problems
}
