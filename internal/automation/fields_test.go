package automation

import (
	"errors"
	"reflect"
	"testing"

	"tsunagu/internal/campaign"
	"tsunagu/internal/fielderr"
)

// The editor marks every wrong field by its path in the draft it sent, so a
// draft with several mistakes must name all of them.
func TestNormaliseNamesEveryWrongField(t *testing.T) {
	cases := []struct {
		name string
		d    Draft
		want []string
	}{
		{"date reminder", Draft{Name: " ", Kind: KindDate, Spec: Spec{
			Field: "maturity", At: "9時", Channels: []string{campaign.ChannelEmail},
		}}, []string{"name", "spec.at", "spec.content.email.subject", "spec.content.email.text"}},
		{"no channel", Draft{Name: "満期", Kind: KindDate, Spec: Spec{Field: "nope", At: "09:00"}},
			[]string{"spec.field", "spec.channels"}},
		{"welcome steps", Draft{Name: "ようこそ", Kind: KindWelcome, Spec: Spec{Steps: []Step{
			{DelayDays: 0, Messages: []campaign.LineMessage{{Kind: "text", Text: "こんにちは {氏名} 様"}}},
			{DelayDays: 3, At: "25:00", Messages: []campaign.LineMessage{{Kind: "text", Text: ""}}},
			{DelayDays: 7, At: "12:00", Messages: []campaign.LineMessage{{Kind: "text", Text: "{支店} より"}}},
		}}}, []string{"spec.steps.1.at", "spec.steps.1.messages.0.text", "spec.steps.2.messages"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.d.normalise()
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("err = %v, want ErrInvalid", err)
			}
			var got []string
			for _, f := range fielderr.Fields(err) {
				got = append(got, f.Field)
			}
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("fields = %v, want %v", got, c.want)
			}
		})
	}
}
