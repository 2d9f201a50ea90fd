package engine

import (
	"context"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"tsunagu/internal/audit"
	"tsunagu/internal/autoreply"
	"tsunagu/internal/secrets/secretstest"
	"tsunagu/internal/segment"
	"tsunagu/internal/survey"
)

// The engine runs the survey hook before the auto-replies (a typed answer
// gets no keyword reply) and compiles survey conditions in segments.
func TestSurveyThroughTheEngine(t *testing.T) {
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
	if _, err := eng.AutoReply().SaveRule(ctx, admin, autoreply.Rule{Keyword: "3", Match: autoreply.MatchContains, Reply: "キーワード応答", Enabled: true}); err != nil {
		t.Fatal(err)
	}
	sv, err := eng.Survey().Save(ctx, admin, survey.Survey{Name: "家族", Questions: []survey.Question{{ID: "q1", Type: survey.TypeNumber, Text: "ご家族は何人ですか？"}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := eng.Survey().SetStatus(ctx, admin, sv.ID, survey.StatusOpen); err != nil {
		t.Fatal(err)
	}
	user := eng.Sim().Customers()[0].UserID
	if _, err := eng.Sim().SendText(ctx, user, "こんにちは"); err != nil {
		t.Fatal(err)
	}
	if _, err := eng.Survey().SendTo(ctx, eng.Outbox(), admin, user, sv.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := eng.Sim().SendText(ctx, user, "3"); err != nil {
		t.Fatal(err)
	}
	// Hook replies leave the webhook path: the send queue delivers them.
	eventually(t, 10*time.Second, "survey thanks", func() bool {
		ds := eng.Sim().Deliveries(user)
		return ds[len(ds)-1].Text == "ご回答ありがとうございました。"
	})
	ds := eng.Sim().Deliveries(user)
	if last := ds[len(ds)-1]; last.Text != "ご回答ありがとうございました。" {
		t.Fatalf("last delivery = %q", last.Text)
	}
	for _, d := range ds {
		if d.Text == "キーワード応答" {
			t.Fatal("an answer reached the auto-replies")
		}
	}
	_, err = eng.Segments().Count(ctx, segment.Node{Cond: &segment.Condition{Kind: segment.KindSurvey, Survey: strconv.FormatInt(sv.ID, 10), Question: "q1", Cmp: "eq", Value: "3"}})
	if err != nil {
		t.Fatalf("survey condition: %v", err)
	}
}
