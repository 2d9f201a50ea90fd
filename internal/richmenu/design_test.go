package richmenu

import (
	"bytes"
	"errors"
	"image"
	"image/jpeg"
	"image/png"
	"strings"
	"testing"

	"tsunagu/internal/line"
)

func validDesign() Design {
	return Design{Name: "会員", Width: 2500, Height: 843, ChatBarText: "メニュー", Areas: []Area{
		{X: 0, Y: 0, Width: 1250, Height: 843, Action: line.RichMenuAction{Type: "postback", Data: "a=1"}},
		{X: 1250, Y: 0, Width: 1250, Height: 843, Action: line.RichMenuAction{Type: "uri", URI: "https://example.jp/"}},
	}}
}

func TestDesignValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(d *Design)
		ok   bool
	}{
		{"valid", func(*Design) {}, true},
		{"large", func(d *Design) { d.Height = 1686; d.Areas[0].Height, d.Areas[1].Height = 1686, 1686 }, true},
		{"no name", func(d *Design) { d.Name = " " }, false},
		{"narrow", func(d *Design) { d.Width = 799 }, false},
		{"wide", func(d *Design) { d.Width = 2501 }, false},
		{"low", func(d *Design) { d.Height = 249 }, false},
		{"aspect", func(d *Design) {
			d.Width, d.Height = 1200, 1000
			d.Areas = d.Areas[:1]
			d.Areas[0].Width, d.Areas[0].Height = 100, 100
		}, false},
		{"chat bar 14", func(d *Design) { d.ChatBarText = strings.Repeat("あ", 14) }, true},
		{"chat bar 15", func(d *Design) { d.ChatBarText = strings.Repeat("あ", 15) }, false},
		{"no areas", func(d *Design) { d.Areas = nil }, false},
		{"21 areas", func(d *Design) {
			d.Areas = nil
			for i := range 21 {
				d.Areas = append(d.Areas, Area{X: i * 100, Y: 0, Width: 100, Height: 100, Action: line.RichMenuAction{Type: "message", Text: "x"}})
			}
		}, false},
		{"outside", func(d *Design) { d.Areas[1].Width = 1251 }, false},
		{"overlap", func(d *Design) { d.Areas[1].X = 1249 }, false},
		{"touching", func(d *Design) { d.Areas[1].X, d.Areas[1].Width = 1250, 100 }, true},
		{"postback no data", func(d *Design) { d.Areas[0].Action.Data = "" }, false},
		{"postback data 301", func(d *Design) { d.Areas[0].Action.Data = strings.Repeat("x", 301) }, false},
		{"label 21", func(d *Design) { d.Areas[0].Action.Label = strings.Repeat("x", 21) }, false},
		{"message", func(d *Design) { d.Areas[0].Action = line.RichMenuAction{Type: "message", Text: "残高照会"} }, true},
		{"message empty", func(d *Design) { d.Areas[0].Action = line.RichMenuAction{Type: "message"} }, false},
		{"http link", func(d *Design) { d.Areas[1].Action.URI = "http://example.jp/" }, false},
		{"tel link", func(d *Design) { d.Areas[1].Action.URI = "tel:0312345678" }, true},
		{"line link", func(d *Design) { d.Areas[1].Action.URI = "line://nv/location" }, true},
		{"javascript", func(d *Design) { d.Areas[1].Action.URI = "javascript:alert(1)" }, false},
		{"date picker", func(d *Design) {
			d.Areas[0].Action = line.RichMenuAction{Type: "datetimepicker", Data: "d", Mode: "date"}
		}, true},
		{"date picker mode", func(d *Design) {
			d.Areas[0].Action = line.RichMenuAction{Type: "datetimepicker", Data: "d", Mode: "week"}
		}, false},
		{"unknown action", func(d *Design) { d.Areas[0].Action = line.RichMenuAction{Type: "camera"} }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := validDesign()
			tc.edit(&d)
			err := d.Validate()
			if tc.ok != (err == nil) || (err != nil && !errors.Is(err, ErrInvalid)) {
				t.Fatalf("Validate = %v, want ok=%v", err, tc.ok)
			}
		})
	}
}

func TestCheckImage(t *testing.T) {
	enc := func(format string, w, h int) []byte {
		var b bytes.Buffer
		img := image.NewGray(image.Rect(0, 0, w, h))
		if format == "jpeg" {
			jpeg.Encode(&b, img, nil)
		} else {
			png.Encode(&b, img)
		}
		return b.Bytes()
	}
	for _, tc := range []struct {
		name string
		data []byte
		typ  string
	}{
		{"png", enc("png", 2500, 843), "image/png"},
		{"jpeg", enc("jpeg", 2500, 843), "image/jpeg"},
		{"wrong size", enc("png", 2500, 1686), ""},
		{"not an image", []byte("GIF89a......"), ""},
		{"empty", nil, ""},
		{"over 1 MB", append(enc("png", 2500, 843), make([]byte, MaxImageBytes)...), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			typ, err := CheckImage(tc.data, 2500, 843)
			if typ != tc.typ || (tc.typ == "") != (err != nil) {
				t.Fatalf("CheckImage = %q, %v; want %q", typ, err, tc.typ)
			}
		})
	}
}

func TestTemplatesAreValid(t *testing.T) {
	for _, tp := range Templates() {
		d := Design{Name: tp.Key, Width: tp.Width, Height: tp.Height, ChatBarText: "メニュー", Areas: tp.Areas}
		if err := d.Validate(); err != nil {
			t.Errorf("%s: %v", tp.Key, err)
		}
		img, err := Placeholder(tp.Width, tp.Height, tp.Areas)
		if err != nil {
			t.Fatal(err)
		}
		if typ, err := CheckImage(img, tp.Width, tp.Height); err != nil || typ != "image/png" {
			t.Errorf("%s placeholder: %q, %v (%d bytes)", tp.Key, typ, err, len(img))
		}
	}
}
