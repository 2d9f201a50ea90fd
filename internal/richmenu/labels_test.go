package richmenu_test

import (
	"context"
	"testing"

	"tsunagu/internal/line"
	"tsunagu/internal/richmenu"
)

// Publishing a menu registers what each postback area says, so that a tap
// shows in the conversation as 「来店予約」, not as its data.
func TestPublishRegistersAreaLabels(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t, 3)
	s := w.service(w.client, 0)
	d := w.design(s, "会員", "compact2")
	d.Areas[0].Action = line.RichMenuAction{Type: "postback", Data: "action=reserve", Label: "予約", DisplayText: "来店予約"}
	d.Areas[1].Action = line.RichMenuAction{Type: "postback", Data: "action=rates", Label: "金利"}
	d, err := s.SaveDesign(ctx, "staff:admin", d)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SetAssignments(ctx, "a", richmenu.Assignments{DefaultDesignID: d.ID}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Publish(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	for data, want := range map[string]string{"action=reserve": "来店予約", "action=rates": "金利"} {
		var got string
		if err := w.db.Reader().QueryRow(`SELECT label FROM postback_labels WHERE data = ?`, data).Scan(&got); err != nil || got != want {
			t.Errorf("%s: label %q (%v), want %q", data, got, err, want)
		}
	}
}
