package inbox

import (
	"context"
	"database/sql"
	"testing"

	"tsunagu/internal/auth"
	"tsunagu/internal/mask"
)

// A sticker's image comes from the configured base by its sticker ID; other
// kinds, withdrawn stickers, malformed bodies and masked roles get none, and
// without a base the label is all there is.
func TestStickerURL(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.receive(t, textEvent(userA, "こんにちは", f.clock.Now()))
	c := f.onlyConversation(t)
	if err := f.db.Write(ctx, func(tx *sql.Tx) error {
		for _, m := range []struct {
			kind, body string
			unsent     int
		}{{"sticker", "446/1988", 0}, {"sticker", "446/../x", 0}, {"sticker", "11537/52002734", 1}} {
			var unsentAt any
			if m.unsent == 1 {
				unsentAt = 2
			}
			if _, err := tx.Exec(`INSERT INTO messages (conversation_id, direction, kind, body, unsent_at, created_at) VALUES (?, 'in', ?, ?, ?, 1)`,
				c.ID, m.kind, m.body, unsentAt); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	const base = "http://127.0.0.1:1/stickershop/v1/sticker/"
	ib, err := New(Config{DB: f.db, StickerImageBase: base, Clock: f.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	op := ib.As(auth.Staff{ID: 1, Login: "tanaka", Role: auth.RoleOperator})
	msgs, err := op.Messages(ctx, c.ID)
	if err != nil || len(msgs) != 4 {
		t.Fatalf("messages: %+v %v", msgs, err)
	}
	want := []string{"", base + "1988/android/sticker.png", "", ""} // text, sticker, malformed, withdrawn
	for i, m := range msgs {
		if m.StickerURL != want[i] {
			t.Errorf("message %d (%s %q unsent=%v): sticker URL %q, want %q", i, m.Kind, m.Body, m.Unsent, m.StickerURL, want[i])
		}
	}
	agency := ib.As(auth.Staff{ID: 2, Login: "ag", Role: auth.RoleAgency})
	if msgs, _ := agency.Messages(ctx, c.ID); msgs[1].StickerURL != "" || msgs[1].Body != mask.Placeholder {
		t.Errorf("masked role sees %+v", msgs[1])
	}
	if msgs, _ := f.ib.As(auth.Staff{ID: 1, Role: auth.RoleOperator}).Messages(ctx, c.ID); msgs[1].StickerURL != "" {
		t.Errorf("no base, yet a sticker URL %q", msgs[1].StickerURL)
	}
}
