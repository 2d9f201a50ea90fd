package richmenu_test

import (
	"context"
	"encoding/base64"
	"errors"
	"strings"
	"testing"

	"tsunagu/internal/richmenu"
)

// Images from the UI: base64 or a data: URL, refused when not base64 or
// far too large; a placeholder fits the design; the image comes back as a
// data: URL. Publishing syncs right after.
func TestImagesFromTheUIAndPublishAndSync(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t, 20)
	s := w.service(w.client, 0)
	tp := richmenu.Templates()[0]
	d, err := s.SaveDesign(ctx, "staff:admin", richmenu.Design{Name: "ゲスト", Width: tp.Width, Height: tp.Height, ChatBarText: "メニュー", Areas: tp.Areas})
	if err != nil {
		t.Fatal(err)
	}
	if url, err := s.ImageURL(ctx, d.ID); err != nil || url != "" {
		t.Fatalf("no image yet: %q %v", url, err)
	}
	if _, err := s.SetPlaceholderImage(ctx, "staff:admin", d.ID+1000); !errors.Is(err, richmenu.ErrNotFound) {
		t.Fatalf("placeholder of an unknown design: %v", err)
	}
	if _, err := s.SetPlaceholderImage(ctx, "staff:admin", d.ID); err != nil {
		t.Fatal(err)
	}
	url, err := s.ImageURL(ctx, d.ID)
	if err != nil || !strings.HasPrefix(url, "data:image/png;base64,") {
		t.Fatalf("image URL: %.40q %v", url, err)
	}
	png, _, err := s.Image(ctx, d.ID)
	if err != nil {
		t.Fatal(err)
	}

	for name, data := range map[string]string{
		"not base64":    "data:image/png;base64,***",
		"far too large": strings.Repeat("A", richmenu.MaxImageBytes*2+4),
		"not an image":  base64.StdEncoding.EncodeToString([]byte("hello")),
	} {
		if _, err := s.SetImageBase64(ctx, "staff:admin", d.ID, data); !errors.Is(err, richmenu.ErrInvalid) {
			t.Errorf("%s: %v", name, err)
		}
	}
	for _, data := range []string{base64.StdEncoding.EncodeToString(png), "data:image/png;base64," + base64.StdEncoding.EncodeToString(png)} {
		if _, err := s.SetImageBase64(ctx, "staff:admin", d.ID, data); err != nil {
			t.Fatalf("%.30q: %v", data, err)
		}
	}
	if got, _ := s.ImageURL(ctx, d.ID); got != url {
		t.Fatal("the uploaded image differs from the one sent")
	}

	if err := s.SetAssignments(ctx, "staff:admin", richmenu.Assignments{Rules: []richmenu.Rule{}, DefaultDesignID: d.ID}); err != nil {
		t.Fatal(err)
	}
	res, err := s.PublishAndSync(ctx, "staff:admin")
	if err != nil || res.Publish.Created != 1 || res.Sync.ID == 0 {
		t.Fatalf("PublishAndSync: %+v %v", res, err)
	}
}
