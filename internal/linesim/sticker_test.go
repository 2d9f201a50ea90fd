package linesim

import (
	"bytes"
	"image/png"
	"io"
	"net/http"
	"testing"
)

// The simulator serves sticker images where LINE's CDN does, without a
// token, so the sandbox shows them without the internet.
func TestStickerImage(t *testing.T) {
	s := startSim(t, Config{ChannelSecret: "s", AccessToken: "t"})
	get := func(id string) (*http.Response, []byte) {
		t.Helper()
		resp, err := http.Get(s.StickerImageBase() + id + "/android/sticker.png")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, b
	}
	resp, body := get("1988")
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "image/png" {
		t.Fatalf("sticker 1988: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	img, err := png.Decode(bytes.NewReader(body))
	if err != nil || img.Bounds().Dx() != 120 {
		t.Fatalf("sticker image: %v %v", img, err)
	}
	if _, other := get("52002734"); bytes.Equal(other, body) {
		t.Error("two stickers drew the same image")
	}
	if resp, _ := get("abc"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("a sticker ID that is no number: %d, want 404", resp.StatusCode)
	}
}
