package campaign

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"tsunagu/internal/fielderr"
)

// A wrong campaign names each wrong field by its path in Draft, so that the
// editor can mark and scroll to it (issue 19 item 6).
func TestDraftValidationFieldPaths(t *testing.T) {
	base := func() Draft {
		return Draft{Name: "年末のお知らせ", Channels: []string{ChannelLine, ChannelEmail, ChannelSMS}, Content: Content{
			Line:  []LineMessage{{Kind: "text", Text: "{氏名} 様"}},
			Email: Email{Subject: "年末年始の営業", Text: "本文"},
			SMS:   SMS{Text: "休業のお知らせ"},
		}}
	}
	for _, tc := range []struct {
		name string
		edit func(d *Draft)
		want []fielderr.FieldError
	}{
		{"email without subject", func(d *Draft) { d.Content.Email.Subject = " " },
			[]fielderr.FieldError{{Field: "content.email.subject", Code: fielderr.Required}}},
		{"email without subject and text", func(d *Draft) { d.Content.Email = Email{} },
			[]fielderr.FieldError{{Field: "content.email.subject", Code: fielderr.Required}, {Field: "content.email.text", Code: fielderr.Required}}},
		{"subject on two lines", func(d *Draft) { d.Content.Email.Subject = "a\nBcc: x" },
			[]fielderr.FieldError{{Field: "content.email.subject", Code: fielderr.OneLine}}},
		{"subject too long", func(d *Draft) { d.Content.Email.Subject = strings.Repeat("件", maxSubject+1) },
			[]fielderr.FieldError{{Field: "content.email.subject", Code: fielderr.TooLong, Max: maxSubject}}},
		{"sms too long", func(d *Draft) { d.Content.SMS.Text = strings.Repeat("長", SMSMultiPart*SMSMaxParts+1) },
			[]fielderr.FieldError{{Field: "content.sms.text", Code: fielderr.SMSParts, Max: SMSMaxParts}}},
		{"second LINE message empty", func(d *Draft) { d.Content.Line = append(d.Content.Line, LineMessage{Kind: "text"}) },
			[]fielderr.FieldError{{Field: "content.line.1.text", Code: fielderr.Required}}},
		{"image over http", func(d *Draft) { d.Content.Line[0] = LineMessage{Kind: "image", ImageURL: "http://example.jp/a.jpg"} },
			[]fielderr.FieldError{{Field: "content.line.0.imageUrl", Code: fielderr.HTTPS}}},
		{"card without its product", func(d *Draft) {
			d.Content.Line[0] = LineMessage{Kind: "flex", Template: "maturity", Fields: map[string]string{"date": "1/10", "body": "ご案内"}}
		}, []fielderr.FieldError{{Field: "content.line.0.fields.product", Code: fielderr.Required}}},
		{"card link over http", func(d *Draft) {
			d.Content.Line[0] = LineMessage{Kind: "flex", Template: "notice", Fields: map[string]string{"title": "t", "body": "b", "url": "http://x.jp"}}
		}, []fielderr.FieldError{{Field: "content.line.0.fields.url", Code: fielderr.HTTPS}}},
		{"no LINE message", func(d *Draft) { d.Content.Line = nil },
			[]fielderr.FieldError{{Field: "content.line", Code: fielderr.Required}}},
		{"every channel's mistakes at once", func(d *Draft) { d.Content.Line[0].Text = ""; d.Content.SMS.Text = "" },
			[]fielderr.FieldError{{Field: "content.line.0.text", Code: fielderr.Required}, {Field: "content.sms.text", Code: fielderr.Required}}},
		{"no name", func(d *Draft) { d.Name = "  " },
			[]fielderr.FieldError{{Field: "name", Code: fielderr.Required}}},
		{"no channel", func(d *Draft) { d.Channels = nil },
			[]fielderr.FieldError{{Field: "channels", Code: fielderr.Choose}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := base()
			tc.edit(&d)
			err := d.normalise()
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("normalise = %v, want ErrInvalid", err)
			}
			if got := fielderr.Fields(err); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("fields = %+v, want %+v", got, tc.want)
			}
		})
	}
	d := base()
	if err := d.normalise(); err != nil {
		t.Fatalf("valid draft: %v", err)
	}
}
