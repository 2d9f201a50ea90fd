package linesim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
	"math/rand/v2"
	"net/http"
	"strings"
	"testing"
)

// menuJSON is a valid rich menu object with n areas, edited by fn.
func menuJSON(t *testing.T, n int, fn func(m map[string]any)) string {
	t.Helper()
	areas := []any{}
	for i := range n {
		areas = append(areas, map[string]any{
			"bounds": map[string]int{"x": i * 100, "y": 0, "width": 100, "height": 843},
			"action": map[string]string{"type": "postback", "data": fmt.Sprintf("a=%d", i)},
		})
	}
	m := map[string]any{"size": map[string]int{"width": 2500, "height": 843}, "selected": false,
		"name": "menu", "chatBarText": "メニュー", "areas": areas}
	if fn != nil {
		fn(m)
	}
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestCreateRichMenuValidation(t *testing.T) {
	s := startSim(t, Config{})
	area := func(x, y, w, h int, action any) map[string]any {
		return map[string]any{"bounds": map[string]int{"x": x, "y": y, "width": w, "height": h}, "action": action}
	}
	for _, tc := range []struct {
		name string
		body string
		prop string // "" means accepted
	}{
		{"2500x1686", menuJSON(t, 6, func(m map[string]any) { m["size"] = map[string]int{"width": 2500, "height": 1686} }), ""},
		{"2500x843", menuJSON(t, 1, nil), ""},
		{"800x250", menuJSON(t, 0, func(m map[string]any) { m["size"] = map[string]int{"width": 800, "height": 250} }), ""},
		{"20 areas", menuJSON(t, 20, nil), ""},
		{"21 areas", menuJSON(t, 21, nil), "areas"},
		{"width under 800", menuJSON(t, 0, func(m map[string]any) { m["size"] = map[string]int{"width": 799, "height": 250} }), "size.width"},
		{"width over 2500", menuJSON(t, 0, func(m map[string]any) { m["size"] = map[string]int{"width": 2501, "height": 843} }), "size.width"},
		{"height under 250", menuJSON(t, 0, func(m map[string]any) { m["size"] = map[string]int{"width": 1200, "height": 249} }), "size.height"},
		{"aspect under 1.45", menuJSON(t, 0, func(m map[string]any) { m["size"] = map[string]int{"width": 1200, "height": 1000} }), "size"},
		{"no size", menuJSON(t, 0, func(m map[string]any) { delete(m, "size") }), "size"},
		{"no selected", menuJSON(t, 0, func(m map[string]any) { delete(m, "selected") }), "selected"},
		{"no name", menuJSON(t, 0, func(m map[string]any) { m["name"] = "" }), "name"},
		{"chat bar 14", menuJSON(t, 0, func(m map[string]any) { m["chatBarText"] = strings.Repeat("あ", 14) }), ""},
		{"chat bar 15", menuJSON(t, 0, func(m map[string]any) { m["chatBarText"] = strings.Repeat("あ", 15) }), "chatBarText"},
		{"area outside", menuJSON(t, 0, func(m map[string]any) {
			m["areas"] = []any{area(2400, 0, 101, 843, map[string]string{"type": "postback", "data": "x"})}
		}), "areas[0].bounds"},
		{"area zero width", menuJSON(t, 0, func(m map[string]any) {
			m["areas"] = []any{area(0, 0, 0, 843, map[string]string{"type": "postback", "data": "x"})}
		}), "areas[0].bounds"},
		{"no action", menuJSON(t, 0, func(m map[string]any) { m["areas"] = []any{area(0, 0, 10, 10, nil)} }), "areas[0].action"},
		{"postback no data", menuJSON(t, 0, func(m map[string]any) {
			m["areas"] = []any{area(0, 0, 10, 10, map[string]string{"type": "postback"})}
		}), "areas[0].action.data"},
		{"postback data 301", menuJSON(t, 0, func(m map[string]any) {
			m["areas"] = []any{area(0, 0, 10, 10, map[string]string{"type": "postback", "data": strings.Repeat("x", 301)})}
		}), "areas[0].action.data"},
		{"message", menuJSON(t, 0, func(m map[string]any) {
			m["areas"] = []any{area(0, 0, 10, 10, map[string]string{"type": "message", "text": "残高"})}
		}), ""},
		{"message no text", menuJSON(t, 0, func(m map[string]any) {
			m["areas"] = []any{area(0, 0, 10, 10, map[string]string{"type": "message"})}
		}), "areas[0].action.text"},
		{"uri tel", menuJSON(t, 0, func(m map[string]any) {
			m["areas"] = []any{area(0, 0, 10, 10, map[string]string{"type": "uri", "uri": "tel:0312345678"})}
		}), ""},
		{"uri javascript", menuJSON(t, 0, func(m map[string]any) {
			m["areas"] = []any{area(0, 0, 10, 10, map[string]string{"type": "uri", "uri": "javascript:alert(1)"})}
		}), "areas[0].action.uri"},
		{"label 21", menuJSON(t, 0, func(m map[string]any) {
			m["areas"] = []any{area(0, 0, 10, 10, map[string]string{"type": "message", "text": "x", "label": strings.Repeat("a", 21)})}
		}), "areas[0].action.label"},
		{"datetimepicker bad mode", menuJSON(t, 0, func(m map[string]any) {
			m["areas"] = []any{area(0, 0, 10, 10, map[string]string{"type": "datetimepicker", "data": "d", "mode": "week"})}
		}), "areas[0].action.mode"},
		{"unknown action", menuJSON(t, 0, func(m map[string]any) {
			m["areas"] = []any{area(0, 0, 10, 10, map[string]string{"type": "teleport"})}
		}), "areas[0].action.type"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := call(t, s, "POST", "/v2/bot/richmenu", testToken, nil, tc.body)
			if tc.prop == "" {
				if res.status != http.StatusOK || !strings.Contains(string(res.raw), "richmenu-") {
					t.Fatalf("status %d %s, want 200 with an ID", res.status, res.raw)
				}
				return
			}
			if res.status != http.StatusBadRequest {
				t.Fatalf("status %d, want 400", res.status)
			}
			found := false
			for _, d := range res.body.Details {
				found = found || d.Property == tc.prop
			}
			if !found {
				t.Fatalf("details %+v lack property %q", res.body.Details, tc.prop)
			}
		})
	}
}

func encodeImage(t *testing.T, format string, w, h int) []byte {
	t.Helper()
	var b bytes.Buffer
	img := image.NewGray(image.Rect(0, 0, w, h))
	var err error
	if format == "jpeg" {
		err = jpeg.Encode(&b, img, nil)
	} else {
		err = png.Encode(&b, img)
	}
	if err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func createMenu(t *testing.T, s *Server) string {
	t.Helper()
	res := call(t, s, "POST", "/v2/bot/richmenu", testToken, nil, menuJSON(t, 1, nil))
	var out struct{ RichMenuID string }
	if res.status != 200 || json.Unmarshal(res.raw, &out) != nil {
		t.Fatalf("create: %d %s", res.status, res.raw)
	}
	return out.RichMenuID
}

func TestRichMenuImageUpload(t *testing.T) {
	s := startSim(t, Config{})
	// Noise does not compress: a PNG over 1 MB.
	noise := image.NewRGBA(image.Rect(0, 0, 2500, 843))
	r := rand.New(rand.NewPCG(1, 2))
	for i := range noise.Pix {
		noise.Pix[i] = byte(r.Uint32())
	}
	var big bytes.Buffer
	if err := png.Encode(&big, noise); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		ctype  string
		data   []byte
		status int
	}{
		{"png", "image/png", encodeImage(t, "png", 2500, 843), 200},
		{"jpeg", "image/jpeg", encodeImage(t, "jpeg", 2500, 843), 200},
		{"gif type", "image/gif", encodeImage(t, "png", 2500, 843), 415},
		{"type mismatch", "image/jpeg", encodeImage(t, "png", 2500, 843), 400},
		{"wrong size", "image/png", encodeImage(t, "png", 2500, 1686), 400},
		{"over 1 MB", "image/png", big.Bytes(), 413},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id := createMenu(t, s)
			res := call(t, s, "POST", "/v2/bot/richmenu/"+id+"/content", testToken, map[string]string{"Content-Type": tc.ctype}, string(tc.data))
			if res.status != tc.status {
				t.Fatalf("status %d %s, want %d", res.status, res.raw, tc.status)
			}
			if tc.status == 200 {
				again := call(t, s, "POST", "/v2/bot/richmenu/"+id+"/content", testToken, map[string]string{"Content-Type": tc.ctype}, string(tc.data))
				if again.status != 400 || again.body.Message != msgRichMenuImageTwice {
					t.Fatalf("second upload: %d %+v", again.status, again.body)
				}
			}
		})
	}
	if big.Len() <= MaxRichMenuImage {
		t.Fatalf("test image is only %d bytes", big.Len())
	}
	res := call(t, s, "POST", "/v2/bot/richmenu/richmenu-nope/content", testToken, map[string]string{"Content-Type": "image/png"}, string(encodeImage(t, "png", 2500, 843)))
	if res.status != 404 {
		t.Fatalf("unknown menu: %d", res.status)
	}
}

func TestRichMenuLinksAndLimits(t *testing.T) {
	s := startSim(t, Config{})
	users := []string{addFollower(s, "a"), addFollower(s, "b")}
	id := createMenu(t, s)
	bulk := func(path, menu string, ids []string) apiResponse {
		b, _ := json.Marshal(map[string]any{"richMenuId": menu, "userIds": ids})
		return call(t, s, "POST", path, testToken, nil, string(b))
	}
	if res := bulk("/v2/bot/richmenu/bulk/link", id, users); res.status != 400 || res.body.Message != msgRichMenuNoImage {
		t.Fatalf("link without image: %d %+v", res.status, res.body)
	}
	call(t, s, "POST", "/v2/bot/richmenu/"+id+"/content", testToken, map[string]string{"Content-Type": "image/png"}, string(encodeImage(t, "png", 2500, 843)))

	many := make([]string, MaxRichMenuBulkUsers+1)
	for i := range many {
		many[i] = NewUserID()
	}
	for _, tc := range []struct {
		name   string
		path   string
		menu   string
		ids    []string
		status int
	}{
		{"link", "/v2/bot/richmenu/bulk/link", id, users, 202},
		{"500 ids", "/v2/bot/richmenu/bulk/link", id, many[:500], 202},
		{"501 ids", "/v2/bot/richmenu/bulk/link", id, many, 400},
		{"no ids", "/v2/bot/richmenu/bulk/link", id, nil, 400},
		{"malformed id", "/v2/bot/richmenu/bulk/link", id, []string{"Uxyz"}, 400},
		{"unknown menu", "/v2/bot/richmenu/bulk/link", "richmenu-unknown", users, 404},
		{"unlink 501", "/v2/bot/richmenu/bulk/unlink", "", many, 400},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if res := bulk(tc.path, tc.menu, tc.ids); res.status != tc.status {
				t.Fatalf("status %d %s, want %d", res.status, res.raw, tc.status)
			}
		})
	}
	if s.RichMenu(users[0]) != id || s.RichMenu(users[1]) != id {
		t.Fatal("bulk link did not link")
	}
	if res := call(t, s, "GET", "/v2/bot/user/"+users[0]+"/richmenu", testToken, nil, ""); res.status != 200 {
		t.Fatalf("menu of user: %d", res.status)
	}
	if res := call(t, s, "POST", "/v2/bot/user/"+users[0]+"/richmenu/richmenu-unknown", testToken, nil, ""); res.status != 404 {
		t.Fatalf("single link of unknown menu: %d", res.status)
	}
	if res := call(t, s, "POST", "/v2/bot/user/all/richmenu/richmenu-unknown", testToken, nil, ""); res.status != 404 {
		t.Fatalf("default of unknown menu: %d", res.status)
	}
	if res := call(t, s, "POST", "/v2/bot/user/all/richmenu/"+id, testToken, nil, ""); res.status != 200 || s.DefaultRichMenu() != id {
		t.Fatalf("default: %d", res.status)
	}
	if res := bulk("/v2/bot/richmenu/bulk/unlink", "", users[:1]); res.status != 202 || s.RichMenu(users[0]) != "" {
		t.Fatalf("unlink: %d", res.status)
	}
	if m, ok := s.ShownRichMenu(users[0]); !ok || m.ID != id {
		t.Fatal("an unlinked user does not see the default menu")
	}
	if got := s.RichMenuBulkCalls(); len(got) != 3 || got[1] != 500 {
		t.Fatalf("bulk calls = %v", got)
	}
	if res := call(t, s, "DELETE", "/v2/bot/richmenu/"+id, testToken, nil, ""); res.status != 200 {
		t.Fatalf("delete: %d", res.status)
	}
	if res := call(t, s, "DELETE", "/v2/bot/richmenu/"+id, testToken, nil, ""); res.status != 404 {
		t.Fatalf("delete again: %d", res.status)
	}
	if s.RichMenu(users[1]) != "" || s.DefaultRichMenu() != "" {
		t.Fatal("deleted menu still shown")
	}
}

func TestRichMenuCountLimit(t *testing.T) {
	if testing.Short() {
		t.Skip("creates 1,000 menus")
	}
	s := startSim(t, Config{})
	body := menuJSON(t, 1, nil)
	for i := range MaxRichMenus {
		if res := call(t, s, "POST", "/v2/bot/richmenu", testToken, nil, body); res.status != 200 {
			t.Fatalf("menu %d: %d", i, res.status)
		}
	}
	if res := call(t, s, "POST", "/v2/bot/richmenu", testToken, nil, body); res.status != 400 || res.body.Message != msgRichMenuCount {
		t.Fatalf("menu 1001: %d %+v", res.status, res.body)
	}
}
