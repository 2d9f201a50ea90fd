package engine

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"tsunagu/internal/audit"
	"tsunagu/internal/inbox"
	"tsunagu/internal/secrets/secretstest"
	"tsunagu/internal/survey"
)

// SendSurvey starts a survey for a conversation's customer: the first
// question reaches their phone, the send is audited, and an unknown
// conversation or a survey that is not open sends nothing.
func TestSendSurveyToConversation(t *testing.T) {
	kr := secretstest.Keyring(t)
	dir := filepath.Join(t.TempDir(), "data")
	secretstest.CleanupDataDir(t, kr, dir)
	ctx := context.Background()
	eng, err := Start(ctx, Options{DataDir: dir, Keyring: kr, Clock: time.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	admin := audit.StaffActor("admin")
	sv, err := eng.Survey().Save(ctx, admin, survey.Survey{Name: "来店", Questions: []survey.Question{{ID: "q1", Type: survey.TypeNumber, Text: "ご来店は何回目ですか？"}}})
	if err != nil {
		t.Fatal(err)
	}
	user := eng.Sim().Customers()[0].UserID
	if _, err := eng.Sim().SendText(ctx, user, "こんにちは"); err != nil {
		t.Fatal(err)
	}
	var conv int64
	eventually(t, 10*time.Second, "conversation", func() bool {
		cs, err := eng.Inbox().Conversations(ctx)
		if err == nil && len(cs) == 1 {
			conv = cs[0].ID
		}
		return conv != 0
	})

	if _, err := eng.SendSurvey(ctx, admin, conv, sv.ID); !errors.Is(err, survey.ErrNotOpen) {
		t.Fatalf("draft survey: %v", err)
	}
	if err := eng.Survey().SetStatus(ctx, admin, sv.ID, survey.StatusOpen); err != nil {
		t.Fatal(err)
	}
	if _, err := eng.SendSurvey(ctx, admin, conv+1000, sv.ID); !errors.Is(err, inbox.ErrNotFound) {
		t.Fatalf("unknown conversation: %v", err)
	}
	got, err := eng.SendSurvey(ctx, admin, conv, sv.ID)
	if err != nil || got != user {
		t.Fatalf("SendSurvey = %q, %v (want %s)", got, err, user)
	}
	eventually(t, 10*time.Second, "first question", func() bool {
		ds := eng.Sim().Deliveries(user)
		return len(ds) > 0 && ds[len(ds)-1].Via == "push" && strings.Contains(ds[len(ds)-1].Text, "ご来店は何回目ですか？")
	})
	entries, err := audit.List(ctx, eng.DB().Reader(), audit.Filter{Action: survey.ActionSend, Actor: admin})
	if err != nil || len(entries) != 1 {
		t.Fatalf("audit: %+v %v", entries, err)
	}
}
