package engine

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"testing"
	"time"

	"tsunagu/internal/forms"
	"tsunagu/internal/relay"
	"tsunagu/internal/relay/relaytest"
	"tsunagu/internal/relay/wire"
	"tsunagu/internal/relayclient"
	"tsunagu/internal/secrets/secretstest"
)

// TestFormAnswerThroughTheRelay: the engine publishes a form to its relay,
// and a customer's sealed answer, queued with the webhooks, reaches the
// forms service through the pull loop (not the inbox, where it would be
// dropped as junk), verified with LINE Login and stored against the LINE
// user; the thank-you message reaches the phone.
func TestFormAnswerThroughTheRelay(t *testing.T) {
	kr := secretstest.Keyring(t)
	ctx := context.Background()
	rs := relaytest.Start(t, relay.Config{DataDir: t.TempDir()})
	code := rs.Tenant(t, "本店")
	sim, cust, dir := liveFolder(t, kr, dlSecret, dlToken, "佐藤 一郎")
	eng, err := Start(ctx, Options{DataDir: dir, Keyring: kr, LineEndpoint: sim.URL()})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	en, err := eng.RelayEnroll(ctx, "staff:admin", rs.URL, code, relayclient.HTTPLoopback)
	if err != nil {
		t.Fatal(err)
	}
	sim.SetWebhookURL(en.WebhookURL)
	svc := eng.Forms()
	if _, err := svc.SetSettings(ctx, "staff:admin", forms.Settings{LoginChannelID: sim.LoginChannelID(), LIFFID: sim.LoginChannelID() + "-EngTest1"}); err != nil {
		t.Fatal(err)
	}
	f, err := svc.Create(ctx, "staff:op", forms.Draft{Title: "住所変更届", Thanks: "住所変更を受け付けました。",
		Questions: []forms.Question{{ID: "addr", Type: forms.TypeLongText, Label: "新しいご住所", Required: true}}})
	if err != nil {
		t.Fatal(err)
	}
	if f, err = svc.Publish(ctx, "staff:op", f.ID); err != nil {
		t.Fatal(err)
	}
	res, err := http.Get(f.URL + "/def.json")
	if err != nil {
		t.Fatal(err)
	}
	var def wire.FormDef
	json.NewDecoder(res.Body).Decode(&def)
	res.Body.Close()
	var key [32]byte
	copy(key[:], def.BoxKey)
	tok, err := sim.IssueIDToken(cust.UserID, "")
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := wire.SealForm(&key, wire.FormSubmission{FormID: def.ID, SubmitID: "0f1e2d3c4b5a69788796a5b4c3d2e1f0", IDToken: tok,
		Answers: map[string]any{"addr": "東京都港区芝公園４－２－８"}})
	if err != nil {
		t.Fatal(err)
	}
	pr, err := http.Post(f.URL, "application/octet-stream", bytes.NewReader(sealed))
	if err != nil || pr.StatusCode != http.StatusAccepted {
		t.Fatalf("submit: %v %v", pr, err)
	}
	io.Copy(io.Discard, pr.Body)
	pr.Body.Close()
	waitUntil(t, 30*time.Second, "the answer stored", func() bool {
		g, err := svc.Get(ctx, f.ID)
		return err == nil && g.Answers == 1
	})
	ans, err := svc.Answers(ctx, "staff:op", f.ID)
	if err != nil || len(ans) != 1 || ans[0].Values["addr"] != "東京都港区芝公園４－２－８" {
		t.Fatalf("answers %+v %v", ans, err)
	}
	var who string
	eng.DB().Reader().QueryRow(`SELECT line_user_id FROM form_answers`).Scan(&who)
	if who != cust.UserID {
		t.Fatalf("stored against %q, want the customer who answered", who)
	}
	waitUntil(t, 30*time.Second, "the thank-you message", func() bool {
		for _, d := range sim.Deliveries(cust.UserID) {
			if d.Text == "住所変更を受け付けました。" {
				return true
			}
		}
		return false
	})
	if n := eng.relay.junk.Load() + eng.relay.forged.Load(); n != 0 {
		t.Fatalf("%d relay events dropped as junk or forged", n)
	}
}
