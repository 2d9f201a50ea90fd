package forms_test

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"tsunagu/internal/fielderr"
	"tsunagu/internal/forms"
	"tsunagu/internal/linesim"
	"tsunagu/internal/relay"
	"tsunagu/internal/relay/wire"
	"tsunagu/internal/relayclient"
)

func goodAnswers() map[string]any {
	return map[string]any{"name": "山田花子", "birth": "1985-04-01", "age": "41", "phone": "090-1234-5678",
		"purpose": "住宅ローン", "products": []any{"NISA", "iDeCo"}, "note": "金利タイプについて相談したい", "consent": "agreed"}
}

func publish(t *testing.T, e *env) forms.Form {
	t.Helper()
	return publishDraft(t, e, twentyQuestions())
}

func publishDraft(t *testing.T, e *env, d forms.Draft) forms.Form {
	t.Helper()
	ctx := context.Background()
	f, err := e.svc.Create(ctx, "staff:1", d)
	if err != nil {
		t.Fatal(err)
	}
	if f, err = e.svc.Publish(ctx, "staff:1", f.ID); err != nil {
		t.Fatal(err)
	}
	if !f.Published || f.Status != forms.StatusPublished || !strings.HasPrefix(f.URL, e.relay.URL+"/f/") {
		t.Fatalf("published form %+v", f)
	}
	return f
}

func token(f forms.Form) string { return f.URL[strings.LastIndex(f.URL, "/")+1:] }

// seal makes a submission as the phone does, with an ID token LINE issued
// to user (or tok as given).
func (e *env) seal(t *testing.T, f forms.Form, submitID, idToken string, answers map[string]any) []byte {
	t.Helper()
	var pub [32]byte
	copy(pub[:], e.client.BoxKey())
	b, err := wire.SealForm(&pub, wire.FormSubmission{FormID: token(f), SubmitID: submitID, IDToken: idToken, Answers: answers})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func (e *env) submit(t *testing.T, f forms.Form, sealed []byte) {
	t.Helper()
	res, err := httpPost(f.URL, sealed)
	if err != nil || res != 202 {
		t.Fatalf("submit: %d %v", res, err)
	}
}

// The intake path end to end with Go playing the phone: a 20-question form
// answered by a linked friend is stored against that customer once (a
// double submit and a redelivery are duplicates), its mapped attribute is
// set and the thank-you message reaches the phone once; a forged, an
// expired, a replayed token and answers the page could not have sent are
// refused, kept as rejects and never stored as answers; an unreachable
// LINE leaves the submission queued.
func TestIntake(t *testing.T) {
	e := newEnv(t, relay.Config{})
	ctx := context.Background()
	if err := e.db.Write(ctx, func(tx *sql.Tx) error {
		_, err := tx.Exec(`INSERT INTO attribute_defs (key, label, type, choices, created_at) VALUES ('purpose', '相談目的', 'text', '[]', 0)`)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	hanako := e.friend(t, "はなこ", "山田 花子", 7)
	taro := e.friend(t, "たろう", "", 0)
	f := publish(t, e)

	tokH, _ := e.sim.IssueIDToken(hanako, "")
	good := e.seal(t, f, "sub-hanako-000000001", tokH, goodAnswers())
	e.submit(t, f, good)
	e.submit(t, f, good) // a double submit: the same box again
	if got := e.drain(t); strings.Join(got, ",") != "stored,duplicate" {
		t.Fatalf("outcomes %v", got)
	}
	ans, err := e.svc.Answers(ctx, "staff:1", f.ID)
	if err != nil || len(ans) != 1 {
		t.Fatalf("answers %v %v", ans, err)
	}
	if a := ans[0]; a.Customer != "山田 花子" || a.CustomerID != 7 || a.DisplayName != "はなこ" || a.Values["name"] != "山田花子" ||
		len(a.Values["products"].([]any)) != 2 || a.Values["consent"] != "agreed" {
		t.Fatalf("answer %+v", a)
	}
	// CSV export: plain for staff, masked (names and free text) for the
	// agency role, each audited with whether it was masked.
	var plain, masked bytes.Buffer
	if n, err := e.svc.Export(ctx, "staff:1", f.ID, &plain, forms.ExportOptions{}); err != nil || n != 1 {
		t.Fatalf("export: %d %v", n, err)
	}
	if n, err := e.svc.Export(ctx, "staff:2", f.ID, &masked, forms.ExportOptions{Masked: true}); err != nil || n != 1 {
		t.Fatalf("masked export: %d %v", n, err)
	}
	for _, want := range []string{"\xEF\xBB\xBF顧客番号,氏名,LINE の表示名,受付日時,お名前", "C00007,山田 花子,はなこ,", "山田花子", "住宅ローン", "NISA、iDeCo", "同意", "金利タイプについて相談したい"} {
		if !strings.Contains(plain.String(), want) {
			t.Errorf("export lacks %q:\n%s", want, plain.String())
		}
	}
	for _, leak := range []string{"山田", "はなこ", "090-1234-5678", "金利タイプ"} {
		if strings.Contains(masked.String(), leak) {
			t.Errorf("masked export holds %q:\n%s", leak, masked.String())
		}
	}
	if !strings.Contains(masked.String(), "住宅ローン") {
		t.Errorf("masked export lost the choices:\n%s", masked.String())
	}
	var exports string
	e.db.Reader().QueryRow(`SELECT group_concat(json_extract(detail, '$.masked')) FROM audit_log WHERE action = ?`, forms.ActionExport).Scan(&exports)
	if exports != "false,true" {
		t.Fatalf("export audits: %q", exports)
	}
	var attr string
	e.db.Reader().QueryRow(`SELECT value FROM customer_attributes a JOIN attribute_defs d ON d.id = a.attr_id WHERE a.customer_id = 7 AND d.key = 'purpose'`).Scan(&attr)
	if attr != "住宅ローン" {
		t.Fatalf("mapped attribute %q", attr)
	}
	thanks := 0
	for _, d := range e.sim.Deliveries(hanako) {
		if d.Text == "事前シートのご回答ありがとうございました。" {
			thanks++
		}
	}
	if thanks != 1 {
		t.Fatalf("thank-you messages: %d", thanks)
	}

	// Refused: a token for another channel (forged), an expired one, the
	// same token in a new submission (replayed), answers the page never
	// sends (a choice not offered), an unknown form.
	now := time.Now()
	forged, _ := e.sim.SignIDToken(linesim.IDTokenClaims{Iss: linesim.IDTokenIssuer, Sub: taro, Aud: "1999999999", Iat: now.Unix(), Exp: now.Add(time.Hour).Unix()})
	expired, _ := e.sim.SignIDToken(linesim.IDTokenClaims{Iss: linesim.IDTokenIssuer, Sub: taro, Aud: e.sim.LoginChannelID(), Iat: now.Add(-3 * time.Hour).Unix(), Exp: now.Add(-2 * time.Hour).Unix()})
	tokT, _ := e.sim.IssueIDToken(taro, "")
	bad := goodAnswers()
	bad["purpose"] = "宝くじ"
	const forgedText = "偽造された回答ＸＹＺ"
	forgedAnswers := goodAnswers()
	forgedAnswers["note"] = forgedText
	e.submit(t, f, e.seal(t, f, "sub-forged-000000001", forged, forgedAnswers))
	e.submit(t, f, e.seal(t, f, "sub-expired-00000001", expired, goodAnswers()))
	e.submit(t, f, e.seal(t, f, "sub-replay-000000001", tokH, forgedAnswers))
	e.submit(t, f, e.seal(t, f, "sub-bad-000000000001", tokT, bad))
	if got := e.drain(t); strings.Join(got, ",") != "rejected,rejected,rejected,rejected" {
		t.Fatalf("outcomes %v", got)
	}
	rej, _ := e.svc.Rejects(ctx, f.ID)
	if rej[forms.RejectForged] != 1 || rej[forms.RejectExpired] != 1 || rej[forms.RejectReplayed] != 1 || rej[forms.RejectMalformed] != 1 {
		t.Fatalf("rejects %v", rej)
	}
	var n int
	e.db.Reader().QueryRow(`SELECT count(*) FROM form_answers WHERE answers LIKE ?`, "%"+forgedText+"%").Scan(&n)
	if n != 0 {
		t.Fatal("a refused submission was stored as answers")
	}
	e.db.Reader().QueryRow(`SELECT count(*) FROM form_rejects WHERE CAST(body AS TEXT) LIKE '%eyJ%'`).Scan(&n)
	if n != 0 {
		t.Fatal("a refused submission's ID token was kept")
	}
	var audits int
	e.db.Reader().QueryRow(`SELECT count(*) FROM audit_log WHERE action = ?`, forms.ActionReject).Scan(&audits)
	if audits != 4 {
		t.Fatalf("reject audits %d", audits)
	}

	// The desktop is off for two hours while taro's answer waits at the
	// relay: his ID token has expired by the time the desktop opens it,
	// but it was valid when the relay received it, which is what counts.
	// LINE's certs endpoint is down as the desktop comes back (and its
	// cached keys are stale): not a rejection, the submission stays queued
	// and is stored once LINE answers again.
	e.submit(t, f, e.seal(t, f, "sub-taro-00000000001", tokT, goodAnswers()))
	e.clock.Advance(2 * time.Hour)
	e.sim.SetOutage("refuse")
	_, err = e.client.DrainBatch(ctx, func(ctx context.Context, evs []relayclient.Event) []error {
		errs := make([]error, len(evs))
		for i, ev := range evs {
			_, errs[i] = e.svc.Intake(ctx, forms.Submission{Form: ev.Form, ReceivedAt: ev.ReceivedAt})
		}
		return errs
	})
	if err == nil {
		t.Fatal("a submission was acked while LINE was unreachable")
	}
	e.sim.SetOutage("")
	if got := e.drain(t); strings.Join(got, ",") != "stored" {
		t.Fatalf("after the outage: %v", got)
	}
	rej, _ = e.svc.Rejects(ctx, f.ID)
	if rej[forms.RejectExpired] != 1 {
		t.Fatalf("rejects after the desktop was off: %v", rej)
	}

	// Hanako's answers erased; the same sealed box delivered again (a
	// replayed dead letter) does not bring them back.
	if err := e.db.Write(ctx, func(tx *sql.Tx) error {
		_, err := tx.Exec(`DELETE FROM form_answers WHERE submit_id = 'sub-hanako-000000001'`)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	e.submit(t, f, good)
	if got := e.drain(t); strings.Join(got, ",") != "duplicate" {
		t.Fatalf("erased answers delivered again: %v", got)
	}
	e.db.Reader().QueryRow(`SELECT count(*) FROM form_answers WHERE submit_id = 'sub-hanako-000000001'`).Scan(&n)
	if n != 0 {
		t.Fatal("erased answers came back")
	}
}

// The designer's rules: fields named, questions frozen once answered,
// archived forms leave the relay.
func TestFormRules(t *testing.T) {
	e := newEnv(t, relay.Config{})
	ctx := context.Background()
	d := twentyQuestions()
	d.Title = ""
	d.Questions[6].Choices = nil
	d.Questions[19].Consent = ""
	_, err := e.svc.Create(ctx, "staff:1", d)
	var fe *fielderr.Error
	if !errors.Is(err, forms.ErrInvalid) || !errors.As(err, &fe) {
		t.Fatalf("err = %v", err)
	}
	for _, want := range []string{"title", "questions.6.choices", "questions.19.consent"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%v does not name %s", err, want)
		}
	}
	f := publish(t, e)
	u := e.friend(t, "はなこ", "", 0)
	tok, _ := e.sim.IssueIDToken(u, "")
	e.submit(t, f, e.seal(t, f, "sub-0000000000000001", tok, goodAnswers()))
	e.drain(t)
	d = twentyQuestions()
	d.Questions = d.Questions[:5]
	if _, err := e.svc.Update(ctx, "staff:1", f.ID, d); !errors.Is(err, forms.ErrHasAnswers) {
		t.Fatalf("update answered questions: %v", err)
	}
	d = twentyQuestions()
	d.Title = "ご相談事前シート（改）"
	if g, err := e.svc.Update(ctx, "staff:1", f.ID, d); err != nil || g.Published {
		t.Fatalf("text update: %+v %v", g, err)
	}
	if err := e.svc.Archive(ctx, "staff:1", f.ID); err != nil {
		t.Fatal(err)
	}
	if st, _ := httpGet(f.URL); st != 404 {
		t.Fatalf("archived form's page: %d", st)
	}
	var actions []string
	rows, _ := e.db.Reader().Query(`SELECT action FROM audit_log WHERE target = ? ORDER BY seq`, "form:1")
	for rows.Next() {
		var a string
		rows.Scan(&a)
		actions = append(actions, a)
	}
	if got := strings.Join(actions, ","); got != "form.create,form.publish,form.answer,form.update,form.archive" {
		t.Fatalf("audit %s", got)
	}
}

// The LIFF set-up is checked per field and drives verification: with no
// LINE Login channel stored a submission waits (not acked, not refused);
// once IT stores it, the same submission is verified and stored.
func TestSettingsDriveVerification(t *testing.T) {
	e := newEnv(t, relay.Config{})
	ctx := context.Background()
	svc, err := forms.New(forms.Config{DB: e.db, LoginEndpoint: e.sim.URL(),
		Relay: func(context.Context) (forms.Publisher, bool) { return e.client, true }})
	if err != nil {
		t.Fatal(err)
	}
	f, _ := svc.Create(ctx, "staff:1", twentyQuestions())
	if _, err := svc.Publish(ctx, "staff:1", f.ID); !errors.Is(err, forms.ErrNoLIFF) {
		t.Fatalf("publish without LIFF: %v", err)
	}
	_, err = svc.SetSettings(ctx, "staff:1", forms.Settings{LoginChannelID: "12ab", LIFFID: "999999-abcd"})
	if !errors.Is(err, forms.ErrInvalid) || !strings.Contains(err.Error(), "loginChannelId") || !strings.Contains(err.Error(), "liffId") {
		t.Fatalf("bad settings: %v", err)
	}
	u := e.friend(t, "はなこ", "", 0)
	tok, _ := e.sim.IssueIDToken(u, "")
	sub := forms.Submission{Form: &wire.FormSubmission{FormID: "", SubmitID: "sub-settings-0000001", IDToken: tok, Answers: goodAnswers()},
		ReceivedAt: time.Now().UnixMilli()}
	g, _ := svc.Get(ctx, f.ID)
	_ = g
	var tokenOf string
	e.db.Reader().QueryRow(`SELECT token FROM forms WHERE id = ?`, f.ID).Scan(&tokenOf)
	sub.Form.FormID = tokenOf
	if _, err := svc.Intake(ctx, sub); !errors.Is(err, forms.ErrNoLogin) {
		t.Fatalf("intake without LINE Login: %v", err)
	}
	if _, err := svc.SetSettings(ctx, "staff:1", forms.Settings{LoginChannelID: e.sim.LoginChannelID(), LIFFID: e.sim.LoginChannelID() + "-AbCd1234"}); err != nil {
		t.Fatal(err)
	}
	if res, err := svc.Intake(ctx, sub); err != nil || res != forms.Stored {
		t.Fatalf("intake after set-up: %s %v", res, err)
	}
	if g, err := svc.Publish(ctx, "staff:1", f.ID); err != nil || !g.Published {
		t.Fatalf("publish after set-up: %+v %v", g, err)
	}
	st, _, _ := get(t, g2url(t, svc, ctx, f.ID)+"/def.json")
	if !strings.Contains(st, `"liffId":"`+e.sim.LoginChannelID()+`-AbCd1234"`) {
		t.Fatalf("def.json: %s", st)
	}
}

func g2url(t *testing.T, svc *forms.Service, ctx context.Context, id int64) string {
	g, err := svc.Get(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	return g.URL
}

func get(t *testing.T, url string) (string, int, error) {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return string(b), res.StatusCode, nil
}
