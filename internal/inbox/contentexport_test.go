package inbox

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"tsunagu/internal/audit"
	"tsunagu/internal/auth"
)

// A customer's photo saved to a file: the file holds exactly the stored
// bytes, the trail names who saved what (kind, size), never its content; a
// masked role is refused before anything is read or written.
func TestExportContent(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.receive(t, textEvent(userA, "写真を送ります", f.clock.Now()))
	c := f.onlyConversation(t)
	msgs, err := f.ib.Messages(ctx, c.ID)
	if err != nil || len(msgs) != 1 {
		t.Fatalf("messages: %+v %v", msgs, err)
	}
	id := msgs[0].ID
	photo := []byte("\xff\xd8\xff\xe0 a jpeg of a passbook")
	if err := f.db.Write(ctx, func(tx *sql.Tx) error {
		if _, err := tx.Exec(`UPDATE messages SET kind = 'image' WHERE id = ?`, id); err != nil {
			return err
		}
		_, err := tx.Exec(`INSERT INTO message_content (message_id, content_type, data, fetched_at) VALUES (?, 'image/jpeg', ?, 1)`, id, photo)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	op := f.ib.As(auth.Staff{ID: 7, Login: "tanaka", DisplayName: "田中 一郎", Role: auth.RoleOperator})

	name, err := op.ContentFile(ctx, id)
	if err != nil || !regexp.MustCompile(`^image-\d{8}-\d{6}\.jpg$`).MatchString(name) {
		t.Errorf("suggested name %q, %v; want image-YYYYMMDD-hhmmss.jpg", name, err)
	}
	path := filepath.Join(t.TempDir(), name)
	if err := op.ExportContent(ctx, id, path); err != nil {
		t.Fatal(err)
	}
	if got, err := os.ReadFile(path); err != nil || string(got) != string(photo) {
		t.Errorf("saved file: %q %v", got, err)
	}
	entries, err := audit.List(ctx, f.db.Reader(), audit.Filter{Action: ActionContentExport})
	if err != nil || len(entries) != 1 {
		t.Fatalf("export entries: %+v %v", entries, err)
	}
	if e := entries[0]; e.Actor != "staff:tanaka" || e.Target != "conversation:"+itoa(c.ID) || e.Detail["content"] != "image" ||
		e.Detail["bytes"] != itoa(int64(len(photo))) || len(e.Detail) != 2 {
		t.Errorf("export entry: %+v", e)
	}

	// No content: not found, nothing audited.
	if _, err := op.ContentFile(ctx, id+100); !errors.Is(err, ErrNotFound) {
		t.Errorf("content file of a missing message: %v", err)
	}
	if err := op.ExportContent(ctx, id+100, filepath.Join(t.TempDir(), "x.jpg")); !errors.Is(err, ErrNotFound) {
		t.Errorf("export of a missing message: %v", err)
	}

	agency := f.ib.As(auth.Staff{ID: 9, Login: "ag", Role: auth.RoleAgency})
	other := filepath.Join(t.TempDir(), "agency.jpg")
	if err := agency.ExportContent(ctx, id, other); !errors.Is(err, ErrMasked) {
		t.Errorf("agency export: %v", err)
	}
	if _, err := agency.ContentFile(ctx, id); !errors.Is(err, ErrMasked) {
		t.Errorf("agency content file: %v", err)
	}
	if _, err := os.Stat(other); !os.IsNotExist(err) {
		t.Errorf("the agency's export wrote a file: %v", err)
	}
	if entries, _ := audit.List(ctx, f.db.Reader(), audit.Filter{Action: ActionContentExport}); len(entries) != 1 {
		t.Errorf("export entries after refusals: %d, want 1", len(entries))
	}
}
