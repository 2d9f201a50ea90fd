package segment

import (
	"testing"

	"tsunagu/internal/mask"
)

func TestPreviewMask(t *testing.T) {
	p := Preview{Total: 2, Rows: []Row{
		{CustomerNo: "N001", Name: "山田 花子", Branch: "本店", Email: "hanako@example.jp", Mobile: "090-1234-5678"},
		{CustomerNo: "N002"},
	}}
	p.Mask()
	r := p.Rows[0]
	if r.Name != mask.Placeholder || r.Email != mask.Placeholder+"@"+mask.Placeholder+".jp" || r.Mobile != "*********78" {
		t.Errorf("not masked: %+v", r)
	}
	if r.CustomerNo != "N001" || r.Branch != "本店" || p.Total != 2 {
		t.Errorf("masked more than personal data: %+v", p)
	}
	if e := p.Rows[1]; e.Name != "" || e.Email != "" || e.Mobile != "" {
		t.Errorf("empty fields must stay empty: %+v", e)
	}
}
