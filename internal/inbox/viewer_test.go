package inbox

import (
	"context"
	"encoding/base64"
	"errors"
	"strings"
	"testing"

	"tsunagu/internal/audit"
	"tsunagu/internal/auth"
	"tsunagu/internal/mask"
)

// The inbox as a masked role (the agency) sees it: shapes, counts and
// states, no names, IDs, texts or notes; searching and media are refused
// and audited. Other roles see everything, and "mine" is their own.
func TestViewerMasksForMaskedRoles(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.receive(t, textEvent(userA, "口座番号は1234567です", f.clock.Now()))
	c := f.onlyConversation(t)
	linkCustomer(t, f.db, userA, "山田 顧客")
	tanakaID := addStaff(t, f.db, "tanaka", "田中 一郎", "operator")
	tanaka := auth.Staff{ID: tanakaID, Login: "tanaka", DisplayName: "田中 一郎", Role: auth.RoleOperator}
	if _, err := f.ib.AddNote(ctx, StaffOf(tanaka), c.ID, "口座番号 7654321 の件"); err != nil {
		t.Fatal(err)
	}
	if err := f.ib.Assign(ctx, StaffOf(tanaka), c.ID, tanakaID); err != nil {
		t.Fatal(err)
	}
	agency := f.ib.As(auth.Staff{ID: 99, Login: "ag", DisplayName: "代理店", Role: auth.RoleAgency})

	list, err := agency.Conversations(ctx)
	if err != nil || len(list) != 1 {
		t.Fatalf("agency conversations: %+v %v", list, err)
	}
	got := list[0]
	if got.DisplayName != mask.Placeholder || got.LineUserID != mask.Placeholder || got.LastPreview != mask.Placeholder ||
		got.CustomerName != mask.Placeholder || got.Unread != 1 || got.ID != c.ID || got.Status != c.Status || got.AssigneeName != "田中 一郎" {
		t.Errorf("agency conversation: %+v", got)
	}
	if one, err := agency.Conversation(ctx, c.ID); err != nil || one.DisplayName != mask.Placeholder || one.LastPreview != mask.Placeholder {
		t.Errorf("agency one conversation: %+v %v", one, err)
	}
	page, err := agency.List(ctx, ListQuery{})
	if err != nil || len(page.Conversations) != 1 || page.Conversations[0].LastPreview != mask.Placeholder {
		t.Errorf("agency page: %+v %v", page, err)
	}
	msgs, err := agency.Messages(ctx, c.ID)
	if err != nil || len(msgs) != 1 || msgs[0].Body != mask.Placeholder || msgs[0].Direction != "in" {
		t.Errorf("agency messages: %+v %v", msgs, err)
	}
	recent, err := agency.RecentMessages(ctx, c.ID, 0)
	if err != nil || len(recent.Messages) != 1 || strings.Contains(recent.Messages[0].Body, "1234567") {
		t.Errorf("agency recent messages: %+v %v", recent, err)
	}
	notes, err := agency.Notes(ctx, c.ID)
	if err != nil || len(notes) != 1 || notes[0].Body != mask.Placeholder {
		t.Errorf("agency notes: %+v %v", notes, err)
	}

	// Refused outright, each refusal on the trail under the agency.
	if _, err := agency.List(ctx, ListQuery{Search: "口座"}); !errors.Is(err, ErrMasked) {
		t.Errorf("agency search: %v", err)
	}
	if _, err := agency.List(ctx, ListQuery{Search: "  "}); err != nil {
		t.Errorf("a blank search is no search: %v", err)
	}
	if url, err := agency.ContentURL(ctx, msgs[0].ID); !errors.Is(err, ErrMasked) || url != "" {
		t.Errorf("agency content: %q %v", url, err)
	}
	if err := agency.FetchContent(ctx, 999999); !errors.Is(err, ErrMasked) {
		t.Errorf("agency re-fetch: %v", err)
	}
	denied, err := audit.List(ctx, f.db.Reader(), audit.Filter{Action: audit.ActionDenied})
	if err != nil || len(denied) != 3 {
		t.Fatalf("denied entries: %+v %v", denied, err)
	}
	for i, want := range []string{DeniedContent, DeniedContent, DeniedSearch} { // newest first
		if e := denied[i]; e.Actor != "staff:ag" || e.Detail["masked"] != want || e.Detail["role"] != string(auth.RoleAgency) {
			t.Errorf("denied entry %d: %+v", i, e)
		}
	}

	// An operator sees it all; "mine" is the viewer's own.
	op := f.ib.As(tanaka)
	page, err = op.List(ctx, ListQuery{Search: "口座", Assignee: "mine"})
	if err != nil || len(page.Conversations) != 1 || !strings.Contains(page.Conversations[0].Snippet, "1234567") ||
		page.Conversations[0].DisplayName != "山田 花子" {
		t.Errorf("operator search: %+v %v", page, err)
	}
	if page, err := f.ib.As(auth.Staff{ID: tanakaID + 1, Login: "sato", Role: auth.RoleOperator}).List(ctx, ListQuery{Assignee: "mine"}); err != nil || len(page.Conversations) != 0 {
		t.Errorf("someone else's mine: %+v %v", page, err)
	}
	if msgs, _ := op.Messages(ctx, c.ID); len(msgs) != 1 || msgs[0].Body != "口座番号は1234567です" {
		t.Errorf("operator messages: %+v", msgs)
	}
	if notes, _ := op.Notes(ctx, c.ID); len(notes) != 1 || notes[0].Body != "口座番号 7654321 の件" {
		t.Errorf("operator notes: %+v", notes)
	}
	if _, err := op.ContentURL(ctx, msgs[0].ID); errors.Is(err, ErrMasked) {
		t.Errorf("operator content refused as masked: %v", err)
	}
}

func TestDecodeImage(t *testing.T) {
	png := []byte("\x89PNG\r\n\x1a\n")
	b64 := base64.StdEncoding.EncodeToString(png)
	for _, in := range []string{"data:image/png;base64," + b64, b64} {
		if got, err := DecodeImage(in); err != nil || string(got) != string(png) {
			t.Errorf("DecodeImage(%.30q) = %q, %v", in, got, err)
		}
	}
	for _, in := range []string{"", "data:image/png;base64,", "not base64!", "data:image/png;base64,@@@"} {
		if _, err := DecodeImage(in); !errors.Is(err, ErrBadImage) {
			t.Errorf("DecodeImage(%q): %v, want ErrBadImage", in, err)
		}
	}
}
