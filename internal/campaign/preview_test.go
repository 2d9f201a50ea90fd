package campaign

import (
	"errors"
	"strings"
	"testing"
)

func TestPreviewContent(t *testing.T) {
	p, problems := PreviewContent(Content{
		Line:  []LineMessage{{Kind: "text", Text: "{氏名} 様、{支店}です"}},
		Email: Email{Subject: "お知らせ", Text: "{氏名} 様"},
	}, nil)
	if len(problems) != 0 {
		t.Fatalf("problems: %v", problems)
	}
	if p.EmailText != "山田 花子 様" || p.EmailSubject != "お知らせ" || len(p.Line) != 1 || !strings.Contains(string(p.Line[0]), "山田 花子 様、本店営業部です") {
		t.Fatalf("rendered: %+v (line %s)", p, p.Line)
	}
	if p.Sample.Name != "山田 花子" || len(p.Templates) == 0 || len(p.Placeholders) == 0 || p.Errors == nil {
		t.Fatalf("preview frame: %+v", p)
	}

	// Only channels with content are validated; each problem is the
	// content's own error.
	p, problems = PreviewContent(Content{
		Email: Email{Subject: "a\nBcc: x", Text: "本文"},
		SMS:   SMS{Text: strings.Repeat("長", SMSMultiPart*SMSMaxParts+1)},
	}, nil)
	if len(problems) != 2 || !errors.Is(problems[ChannelEmail], ErrInvalid) || !errors.Is(problems[ChannelSMS], ErrInvalid) {
		t.Fatalf("problems: %v", problems)
	}
	if _, ok := problems[ChannelLine]; ok || p.SMSLength.Parts == 0 {
		t.Fatalf("line validated without content, or SMS not measured: %v %+v", problems, p.SMSLength)
	}
}
