package campaign

import (
	"testing"

	"tsunagu/internal/mask"
)

func TestDeliveryPageMask(t *testing.T) {
	p := DeliveryPage{Total: 3, Rows: []Delivery{
		{CustomerNo: "N1", Name: "山田 花子", Channel: ChannelEmail, Address: "hanako@example.jp", Status: "sent"},
		{CustomerNo: "N2", Name: "鈴木 一郎", Channel: ChannelSMS, Address: "09012345678", Status: "failed"},
		{CustomerNo: "N3", Name: "佐藤", Channel: ChannelLine, Address: "U0123456789abcdef0123456789abcdef", Status: "sent"},
	}}
	p.Mask()
	want := []string{mask.Placeholder + "@" + mask.Placeholder + ".jp", "*********78", mask.Placeholder}
	for i, d := range p.Rows {
		if d.Name != mask.Placeholder || d.Address != want[i] {
			t.Errorf("row %d not masked: %+v", i, d)
		}
	}
	if p.Rows[0].CustomerNo != "N1" || p.Rows[1].Status != "failed" || p.Total != 3 {
		t.Errorf("masked more than personal data: %+v", p)
	}
}
