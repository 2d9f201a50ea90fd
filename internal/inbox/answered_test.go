package inbox

import (
	"context"
	"testing"
	"time"

	"tsunagu/internal/audit"
)

// A clerk about to reply learns of the replies colleagues sent after what
// the clerk last saw; their own replies and earlier ones do not count.
func TestAnsweredSince(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.receive(t, textEvent("U1", "住所を変えたいです", f.clock.Now()))
	c := f.onlyConversation(t)
	msgs, err := f.ib.Messages(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	seen := msgs[len(msgs)-1].ID
	yamada := Actor{Audit: audit.StaffActor("yamada"), Name: "山田"}
	sato := Actor{Audit: audit.StaffActor("sato"), Name: "山田"} // the same display name: told apart by login

	if got, err := f.ib.AnsweredSince(ctx, c.ID, seen, yamada.Audit); err != nil || len(got) != 0 {
		t.Fatalf("nothing answered yet: %+v %v", got, err)
	}
	if _, err := f.ib.Reply(ctx, c.ID, yamada, "お手続きをご案内します"); err != nil {
		t.Fatal(err)
	}
	if got, _ := f.ib.AnsweredSince(ctx, c.ID, seen, yamada.Audit); len(got) != 0 {
		t.Fatalf("yamada's own reply counted: %+v", got)
	}
	f.clock.Add(time.Minute)
	m, err := f.ib.Reply(ctx, c.ID, sato, "窓口でも承れます")
	if err != nil {
		t.Fatal(err)
	}
	got, err := f.ib.AnsweredSince(ctx, c.ID, seen, yamada.Audit)
	if err != nil || len(got) != 1 || got[0].MessageID != m.ID || got[0].By != "山田" || got[0].At != f.clock.Now().UnixMilli() {
		t.Fatalf("sato's reply: %+v %v", got, err)
	}
	// Seen since: nothing new.
	if got, _ := f.ib.AnsweredSince(ctx, c.ID, m.ID, yamada.Audit); len(got) != 0 {
		t.Fatalf("after seeing it: %+v", got)
	}
	// Another conversation's replies are not this one's.
	if got, _ := f.ib.AnsweredSince(ctx, c.ID+1, 0, yamada.Audit); len(got) != 0 {
		t.Fatalf("another conversation: %+v", got)
	}
}
