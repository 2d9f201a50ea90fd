package relay_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"tsunagu/internal/relay"
	"tsunagu/internal/relay/wire"
	"tsunagu/internal/relayclient"
)

func testFormDef(id string) wire.FormDef {
	return wire.FormDef{ID: id, Version: 1, Title: "住所変更届", Intro: "ご記入ください", Done: "送信しました",
		LIFFID: "1657000000-abcdEFGH",
		Questions: []wire.FormQuestion{
			{ID: "q1", Type: wire.QText, Label: "お名前", Required: true},
			{ID: "q2", Type: wire.QChoice, Label: "ご用件", Choices: []string{"住所変更", "電話番号変更"}},
		}}
}

// formSink collects the form submissions a desktop receives.
type formSink struct {
	mu    sync.Mutex
	forms []wire.FormSubmission
}

func (s *formSink) handle(_ context.Context, evs []relayclient.Event) []error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, ev := range evs {
		if ev.Form != nil {
			s.forms = append(s.forms, *ev.Form)
		}
	}
	return make([]error, len(evs))
}

func postBytes(t testing.TB, url string, body []byte) int {
	t.Helper()
	res, err := http.Post(url, "application/octet-stream", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode
}

// A form: the desktop publishes its definition (signed, sealed-to key
// forced to its own); the relay serves the page and def.json; a sealed
// submission is answered 202, queued unchanged and opened by the desktop.
// Unknown and removed forms are 404; a forged upload, or one naming
// another key, is refused; the relay's files never hold the answer text.
func TestFormPublishServeAndSubmit(t *testing.T) {
	dir := t.TempDir()
	tr := newRelay(t, relay.Config{DataDir: dir})
	a := tr.addTenant(t, "本店")
	b := tr.addTenant(t, "支店")
	ctx := context.Background()
	client, _ := relayclient.New(relayclient.Config{Enrollment: a.enroll, Keys: a.keys})
	id := newToken(t)
	if err := client.PublishForm(ctx, testFormDef(id)); err != nil {
		t.Fatal(err)
	}
	pageURL := client.FormURL(id)
	if pageURL != tr.http.URL+"/f/"+a.id+"/"+id {
		t.Fatalf("form URL %s", pageURL)
	}
	st, _, page := get(t, pageURL)
	if st != http.StatusOK || !strings.Contains(page, relay.DefaultLIFFSDK) || !strings.Contains(page, `lang="ja"`) {
		t.Fatalf("page: %d %.200s", st, page)
	}
	res, err := http.Get(pageURL)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if csp := res.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'sha256-") || !strings.Contains(csp, "https://static.line-scdn.net") {
		t.Fatalf("CSP %q", csp)
	}
	st, _, defJSON := get(t, pageURL+"/def.json")
	var def wire.FormDef
	if st != http.StatusOK || json.Unmarshal([]byte(defJSON), &def) != nil || def.Title != "住所変更届" ||
		!bytes.Equal(def.BoxKey, a.keys.BoxPub[:]) || len(def.Questions) != 2 {
		t.Fatalf("def.json: %d %s", st, defJSON)
	}

	// Refused uploads: another key signing, another tenant's box key.
	other, _ := relayclient.GenerateKeys()
	forged, _ := relayclient.New(relayclient.Config{Enrollment: a.enroll, Keys: other})
	if err := forged.PublishForm(ctx, testFormDef(newToken(t))); err != relayclient.ErrUnauthorized {
		t.Fatalf("forged upload: %v", err)
	}
	// b's desktop publishing under its own tenant is fine, but its form
	// is not a's.
	clientB, _ := relayclient.New(relayclient.Config{Enrollment: b.enroll, Keys: b.keys})
	idB := newToken(t)
	if err := clientB.PublishForm(ctx, testFormDef(idB)); err != nil {
		t.Fatal(err)
	}
	for _, u := range []string{tr.http.URL + "/f/" + a.id + "/" + idB, tr.http.URL + "/f/" + a.id + "/" + newToken(t),
		tr.http.URL + "/f/t000000000000/" + id, tr.http.URL + "/f/" + a.id + "/x"} {
		if st, _, _ := get(t, u); st != http.StatusNotFound {
			t.Fatalf("%s: %d", u, st)
		}
		if st, _, _ := get(t, u+"/def.json"); st != http.StatusNotFound {
			t.Fatalf("%s/def.json: %d", u, st)
		}
	}

	// Submissions: sealed in the "phone" (wire.SealForm here; the page's
	// own code is tested against OpenAny in internal/forms).
	const secretAnswer = "東京都千代田区丸の内ＺＺＺ９９"
	sub := wire.FormSubmission{FormID: id, SubmitID: "0123456789abcdef0123", IDToken: "eyJ.x.y",
		Answers: map[string]any{"q1": secretAnswer, "q2": "住所変更"}}
	sealed, err := wire.SealForm(&a.keys.BoxPub, sub)
	if err != nil {
		t.Fatal(err)
	}
	if st := postBytes(t, pageURL, sealed); st != http.StatusAccepted {
		t.Fatalf("submit: %d", st)
	}
	if st := postBytes(t, tr.http.URL+"/f/"+a.id+"/"+newToken(t), sealed); st != http.StatusNotFound {
		t.Fatalf("unknown form submit: %d", st)
	}
	if st := postBytes(t, pageURL, []byte("short")); st != http.StatusBadRequest {
		t.Fatalf("junk submit: %d", st)
	}
	if st := postBytes(t, pageURL, make([]byte, wire.MaxSubmission+1)); st != http.StatusRequestEntityTooLarge {
		t.Fatalf("huge submit: %d", st)
	}
	var s formSink
	n, err := client.DrainBatch(ctx, s.handle)
	if err != nil || n != 1 || len(s.forms) != 1 {
		t.Fatalf("drained %d (%v): %d forms", n, err, len(s.forms))
	}
	if got := s.forms[0]; got.FormID != id || got.SubmitID != sub.SubmitID || got.Answers["q1"] != secretAnswer {
		t.Fatalf("opened %+v", got)
	}
	// Another submission stays queued on disk while we look.
	if st := postBytes(t, pageURL, sealed); st != http.StatusAccepted {
		t.Fatalf("second submit: %d", st)
	}
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		data, _ := os.ReadFile(p)
		if bytes.Contains(data, []byte(secretAnswer)) || bytes.Contains(data, []byte("eyJ.x.y")) {
			t.Errorf("%s holds the answer or the ID token in clear", p)
		}
		return nil
	})
	scraped := scrape(t, tr.srv)
	if !strings.Contains(scraped, `tsunagu_relay_form_submits_total{result="queued",tenant="`+a.id+`"} 2`) {
		t.Fatalf("metrics:\n%s", metricLine(scraped, "tsunagu_relay_form_submits_total"))
	}

	// Removed: the page is gone.
	if err := client.RemoveForm(ctx, id); err != nil {
		t.Fatal(err)
	}
	if st, _, _ := get(t, pageURL); st != http.StatusNotFound {
		t.Fatalf("removed form: %d", st)
	}
	if st := postBytes(t, pageURL, sealed); st != http.StatusNotFound {
		t.Fatalf("removed form submit: %d", st)
	}
}

// The definition is checked: a key that is not the tenant's (a desktop
// cannot point answers elsewhere) and malformed questions are refused.
func TestFormDefinitionChecked(t *testing.T) {
	bad := []func(*wire.FormDef){
		func(d *wire.FormDef) { d.Questions = nil },
		func(d *wire.FormDef) { d.Questions[1].Choices = nil },
		func(d *wire.FormDef) { d.Questions[1].ID = "q1" },
		func(d *wire.FormDef) { d.Questions[0].Type = "script" },
		func(d *wire.FormDef) { d.ID = "short" },
		// A condition on a later (or unknown) question, or with no values.
		func(d *wire.FormDef) {
			d.Questions[0].ShowIf = &wire.FormCondition{Question: "q2", Values: []string{"住所変更"}}
		},
		func(d *wire.FormDef) { d.Questions[1].ShowIf = &wire.FormCondition{Question: "q1"} },
	}
	for i, f := range bad {
		d := testFormDef(newToken(t))
		d.BoxKey = make([]byte, 32)
		f(&d)
		if d.Check() == nil {
			t.Errorf("case %d accepted", i)
		}
	}
	d := testFormDef(newToken(t))
	d.BoxKey = make([]byte, 32)
	if err := d.Check(); err != nil {
		t.Fatal(err)
	}
	// A section, and a question shown on an earlier answer.
	d.Questions = append(d.Questions, wire.FormQuestion{ID: "s", Type: wire.QSection, Label: "住所",
		ShowIf: &wire.FormCondition{Question: "q2", Values: []string{"住所変更"}}})
	if err := d.Check(); err != nil {
		t.Fatal(err)
	}
}

// The postal-code table for a form's address lookup: the codes of one
// three-digit prefix, cacheable; anything but three digits is 404.
func TestPostalLookup(t *testing.T) {
	tr := newRelay(t, relay.Config{})
	res, err := http.Get(tr.http.URL + "/postal/100")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var codes map[string][][3]string
	if err := json.NewDecoder(res.Body).Decode(&codes); err != nil || res.StatusCode != 200 {
		t.Fatalf("postal/100: %d %v", res.StatusCode, err)
	}
	if got := codes["1000001"]; len(got) != 1 || got[0] != [3]string{"東京都", "千代田区", "千代田"} {
		t.Fatalf("1000001: %v", got)
	}
	if cc := res.Header.Get("Cache-Control"); !strings.Contains(cc, "max-age=86400") {
		t.Fatalf("Cache-Control %q", cc)
	}
	for _, p := range []string{"abc", "1000", "10", "000"} {
		r, err := http.Get(tr.http.URL + "/postal/" + p)
		if err != nil {
			t.Fatal(err)
		}
		r.Body.Close()
		if r.StatusCode != http.StatusNotFound {
			t.Errorf("postal/%s: %d", p, r.StatusCode)
		}
	}
}
