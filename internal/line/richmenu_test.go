package line

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/png"
	"testing"

	"tsunagu/internal/linesim"
)

func pngOf(t *testing.T, w, h int) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, image.NewGray(image.Rect(0, 0, w, h))); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// newTestRichMenu creates a 2500x843 menu with one postback area and its
// image, and returns its ID.
func newTestRichMenu(t *testing.T, c *Client) string {
	t.Helper()
	ctx := context.Background()
	id, err := c.CreateRichMenu(ctx, RichMenu{Name: "test", ChatBarText: "メニュー", Width: 2500, Height: 843,
		Areas: []RichMenuArea{{X: 0, Y: 0, Width: 2500, Height: 843, Action: RichMenuAction{Type: "postback", Data: "a=1"}}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.SetRichMenuImage(ctx, id, "image/png", pngOf(t, 2500, 843)); err != nil {
		t.Fatal(err)
	}
	return id
}

func TestRichMenuLifecycle(t *testing.T) {
	e := newEnv(t)
	c := e.newSimClient(t, Config{})
	ctx := context.Background()
	users := []string{e.follower("a"), e.follower("b"), e.follower("c")}

	id, err := c.CreateRichMenu(ctx, RichMenu{Name: "menu", ChatBarText: "お問い合わせ", Width: 2500, Height: 1686,
		Areas: []RichMenuArea{
			{X: 0, Y: 0, Width: 1250, Height: 1686, Action: RichMenuAction{Type: "message", Text: "残高照会"}},
			{X: 1250, Y: 0, Width: 1250, Height: 843, Action: RichMenuAction{Type: "uri", URI: "https://example.jp/"}},
			{X: 1250, Y: 843, Width: 1250, Height: 843, Action: RichMenuAction{Type: "datetimepicker", Data: "d", Mode: "date"}},
		}})
	if err != nil {
		t.Fatal(err)
	}
	// Linking before the image is refused, as on LINE.
	if err := c.LinkRichMenuToUsers(ctx, id, users); err == nil {
		t.Fatal("linked a menu without an image")
	}
	img := pngOf(t, 2500, 1686)
	if err := c.SetRichMenuImage(ctx, id, "image/png", img); err != nil {
		t.Fatal(err)
	}
	if err := c.SetRichMenuImage(ctx, id, "image/png", img); err == nil {
		t.Fatal("a second image was accepted")
	}
	list, err := c.RichMenus(ctx)
	if err != nil || len(list) != 1 || list[0].ID != id || len(list[0].Areas) != 3 || list[0].Areas[1].Action.URI != "https://example.jp/" {
		t.Fatalf("list = %+v, %v", list, err)
	}
	if err := c.LinkRichMenuToUsers(ctx, id, users[:2]); err != nil {
		t.Fatal(err)
	}
	if got, err := c.RichMenuOfUser(ctx, users[0]); err != nil || got != id {
		t.Fatalf("menu of user = %q, %v", got, err)
	}
	if _, err := c.RichMenuOfUser(ctx, users[2]); !errors.Is(err, ErrRichMenuNotFound) {
		t.Fatalf("menu of unlinked user: %v", err)
	}
	if err := c.SetDefaultRichMenu(ctx, id); err != nil || e.sim.DefaultRichMenu() != id {
		t.Fatalf("default: %v", err)
	}
	if err := c.UnlinkRichMenuFromUsers(ctx, users[:1]); err != nil || e.sim.RichMenu(users[0]) != "" {
		t.Fatalf("unlink: %v", err)
	}
	if err := c.LinkRichMenuToUsers(ctx, "richmenu-00000000000000000000000000000000", users); !errors.Is(err, ErrRichMenuNotFound) {
		t.Fatalf("unknown menu: %v", err)
	}
	big := make([]string, MaxRichMenuBulkUsers+1)
	for i := range big {
		big[i] = linesim.NewUserID()
	}
	if err := c.LinkRichMenuToUsers(ctx, id, big); err == nil {
		t.Fatal("501 users accepted")
	}
	if err := c.DeleteRichMenu(ctx, id); err != nil {
		t.Fatal(err)
	}
	if err := c.DeleteRichMenu(ctx, id); err != nil {
		t.Fatalf("deleting a deleted menu: %v", err)
	}
	if e.sim.RichMenu(users[1]) != "" || e.sim.DefaultRichMenu() != "" {
		t.Fatal("a deleted menu is still linked")
	}
}
