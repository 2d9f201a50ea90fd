package richmenu_test

import (
	"context"
	"testing"

	"tsunagu/internal/richmenu"
)

// A publish with no default and no rule has nothing to publish: the result
// says so (Assigned 0) instead of a bare "0 created" the screen showed as
// success (issue 19, item 15).
func TestPublishSaysWhatWasAssigned(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t, 4)
	s := w.service(w.client, 0)
	res, err := s.Publish(ctx, "staff:admin")
	if err != nil || res.Assigned != 0 || res.HasDefault || res.Created != 0 {
		t.Fatalf("nothing assigned: %+v %v", res, err)
	}
	tp := richmenu.Templates()[0]
	d, err := s.SaveDesign(ctx, "staff:admin", richmenu.Design{Name: "既定", Width: tp.Width, Height: tp.Height, ChatBarText: "メニュー", Areas: tp.Areas})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.SetPlaceholderImage(ctx, "staff:admin", d.ID); err != nil {
		t.Fatal(err)
	}
	if err := s.SetAssignments(ctx, "staff:admin", richmenu.Assignments{Rules: []richmenu.Rule{}, DefaultDesignID: d.ID}); err != nil {
		t.Fatal(err)
	}
	res, err = s.Publish(ctx, "staff:admin")
	if err != nil || res.Assigned != 1 || !res.HasDefault || res.Created != 1 {
		t.Fatalf("a default assigned: %+v %v", res, err)
	}
}
