package richmenu

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"tsunagu/internal/fielderr"
	"tsunagu/internal/line"
)

// A wrong design names each wrong field by its path in Design, so that the
// editor can open the area and mark the input (issue 19 item 6).
func TestDesignValidateFieldPaths(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(d *Design)
		want []fielderr.FieldError
	}{
		{"area 2 link over http", func(d *Design) { d.Areas[1].Action.URI = "http://example.jp/" },
			[]fielderr.FieldError{{Field: "areas.1.action.uri", Code: fielderr.LinkScheme}}},
		{"area 2 link empty", func(d *Design) { d.Areas[1].Action.URI = "" },
			[]fielderr.FieldError{{Field: "areas.1.action.uri", Code: fielderr.Required}}},
		{"https without host", func(d *Design) { d.Areas[1].Action.URI = "https:///x" },
			[]fielderr.FieldError{{Field: "areas.1.action.uri", Code: fielderr.LinkScheme}}},
		{"tel is fine, postback data missing", func(d *Design) { d.Areas[1].Action.URI = "tel:0120000000"; d.Areas[0].Action.Data = "" },
			[]fielderr.FieldError{{Field: "areas.0.action.data", Code: fielderr.Required}}},
		{"name and chat bar, both at once", func(d *Design) { d.Name = " "; d.ChatBarText = strings.Repeat("あ", MaxChatBar+1) },
			[]fielderr.FieldError{{Field: "name", Code: fielderr.Required}, {Field: "chatBarText", Code: fielderr.TooLong, Max: MaxChatBar}}},
		{"label too long", func(d *Design) { d.Areas[0].Action.Label = strings.Repeat("a", MaxLabel+1) },
			[]fielderr.FieldError{{Field: "areas.0.action.label", Code: fielderr.TooLong, Max: MaxLabel}}},
		{"overlap", func(d *Design) { d.Areas[1].X = 1000 },
			[]fielderr.FieldError{{Field: "areas.1", Code: fielderr.Overlap}}},
		{"outside and overlapping", func(d *Design) { d.Areas[1].X, d.Areas[1].Width = 1200, 1400 },
			[]fielderr.FieldError{{Field: "areas.1", Code: fielderr.Outside}, {Field: "areas.1", Code: fielderr.Overlap}}},
		{"picker mode", func(d *Design) {
			d.Areas[0].Action = line.RichMenuAction{Type: "datetimepicker", Data: "d", Mode: "week"}
		},
			[]fielderr.FieldError{{Field: "areas.0.action.mode", Code: fielderr.Choose}}},
		{"no areas", func(d *Design) { d.Areas = nil },
			[]fielderr.FieldError{{Field: "areas", Code: fielderr.Required}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := validDesign()
			tc.edit(&d)
			err := d.Validate()
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("Validate = %v, want ErrInvalid", err)
			}
			if got := fielderr.Fields(err); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("fields = %+v, want %+v", got, tc.want)
			}
		})
	}
}
