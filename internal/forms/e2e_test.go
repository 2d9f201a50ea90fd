package forms_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"tsunagu/internal/forms"
	"tsunagu/internal/linesim"
	"tsunagu/internal/relay"
)

// lockedBuffer collects the relay's log lines from its goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

type phoneRun struct {
	Name        string `json:"name"`
	Posts       int    `json:"posts"`
	Errors      []string
	Focused     string                              `json:"focused"`
	Done        string                              `json:"done"`
	URL         string                              `json:"url"`
	Kept        string                              `json:"kept"`
	Confirm     string                              `json:"confirm"` // the confirmation step's answers
	Shown       []string                            `json:"shown"`   // the labels shown as the form was sent to confirmation
	Lookups     []struct{ Pref, City, Town string } `json:"lookups"`
	FirstStatus int                                 `json:"firstStatus"`
	// ErrorsAfterFill: error messages still shown once every field is
	// right (they must go as the fields are corrected).
	ErrorsAfterFill int `json:"errorsAfterFill"`
}

// TestPhoneEndToEnd: the relay (loopback, its own data folder and log),
// the desktop side (relay client, encrypted DB, forms service, outbox),
// the LINE simulator (LIFF stand-in, LINE Login verify, Messaging API) and
// Debian's Chromium at 375×667 playing the phones:
//   - outside LINE the page explains how to open it in LINE;
//   - the form has sections, one shown only for 住宅ローン with a required
//     question in it; every answer goes through the confirmation step;
//   - a linked customer answers all 20 questions (an empty submit first:
//     every required field named, focus on the first; the 住宅ローン
//     section appears once she picks it); stored against that customer;
//   - the others pick 資産運用: the section stays hidden, its required
//     question is not asked, and nothing of it is stored;
//   - a second customer's reply is lost on the way back: the page keeps
//     the typed answers, is sent again, and the answer is stored once;
//   - a forged ID token and a reused one (the same LINE launch opened
//     twice) are refused by the desktop, never stored;
//   - the relay's files and log hold none of the typed answers.
//
// Screenshots: test-artifacts/ui/forms-phone-*.png.
func TestPhoneEndToEnd(t *testing.T) {
	chromium := os.Getenv("TSUNAGU_CHROMIUM")
	if chromium == "" {
		chromium = "/usr/bin/chromium"
	}
	if _, err := os.Stat(chromium); err != nil {
		t.Fatalf("Chromium is needed at %s (Debian's chromium package): %v", chromium, err)
	}
	dataDir := t.TempDir()
	var relayLog lockedBuffer
	e := newEnv(t, relay.Config{DataDir: dataDir, Logger: slog.New(slog.NewTextHandler(&relayLog, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	ctx := context.Background()
	hanako := e.friend(t, "はなこ", "山田 花子", 7)
	taro := e.friend(t, "たろう", "佐藤 太郎", 8)
	jiro := e.friend(t, "じろう", "", 0)
	f := publishDraft(t, e, sectioned(twentyQuestions()))

	open := func(u string) string {
		s, err := e.sim.LIFFURL(u, f.URL)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	// Typed answers: unusual enough to be found if they leaked.
	const (
		nameH = "山田花子ＥＥＥ"
		noteH = "住宅ローンの借り換えを検討中ＱＱＱ"
		nameT = "佐藤太郎ＲＲＲ"
	)
	full := []map[string]any{
		{"label": "お名前 必須", "value": nameH},
		{"label": "フリガナ 任意", "value": "ヤマダハナコ"},
		{"label": "生年月日 必須", "value": "昭和60年4月1日"},
		{"label": "年齢 任意", "value": "41"},
		{"label": "メールアドレス 任意", "value": "hanako@example.jp"},
		{"label": "電話番号 必須", "value": "090-1234-5678"},
		{"postal": "100-0001", "expect": "filled"},
		{"label": "町名・番地", "value": "千代田1-1"},
		{"legend": "ご相談の目的", "check": []string{"住宅ローン"}},
		{"legend": "ご関心のある商品", "check": []string{"NISA", "iDeCo"}},
		{"legend": "世帯年収", "check": []string{"400〜800万円"}},
		{"label": "ご家族の人数 任意", "value": "3"},
		{"legend": "お住まい", "check": []string{"持ち家"}},
		{"legend": "住宅ローンの有無", "check": []string{"あり"}},
		{"label": "毎月の積立額（円） 任意", "value": "30000"},
		{"legend": "値動きへの考え方", "check": []string{"バランス"}},
		{"legend": "ご連絡の希望時間帯", "check": []string{"午前", "夕方"}},
		{"legend": "ご来店予定の店舗", "check": []string{"駅前支店"}},
		{"label": "ご来店希望日 任意", "value": "2026-12-20"},
		{"label": "ご相談内容 任意", "value": noteH},
		{"legend": "当行を知ったきっかけ", "check": []string{"LINE"}},
		{"legend": "個人情報の取扱い", "check": []string{"同意する"}},
	}
	required := func(name string) []map[string]any {
		return []map[string]any{
			{"label": "お名前 必須", "value": name},
			{"label": "生年月日 必須", "value": "平成2年1月2日"},
			{"label": "電話番号 必須", "value": "0312345678"},
			{"postal": "0600000", "expect": "filled"},
			{"label": "町名・番地", "value": "北1条西2丁目"},
			{"legend": "ご相談の目的", "check": []string{"資産運用"}},
			{"legend": "個人情報の取扱い", "check": []string{"同意する"}},
		}
	}
	reused := open(jiro)
	forgedTok := "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJVMDAwIn0.AAAA"
	shots, _ := filepath.Abs(filepath.Join("..", "..", "test-artifacts", "ui"))
	os.MkdirAll(shots, 0o755)
	arg, _ := json.Marshal(map[string]any{
		"shots":   shots,
		"outside": f.URL,
		"runs": []map[string]any{
			{"name": "hanako", "url": open(hanako), "fill": full, "submitEmptyFirst": true, "shotFilled": true},
			// Taro's phone cannot reach the postal-code table: he types the
			// address himself.
			{"name": "taro", "url": open(taro), "fill": append(required(nameT)[:3], map[string]any{"postal": "1500001", "expect": "failed"},
				map[string]any{"select": "都道府県", "value": "東京都"}, map[string]any{"label": "市区町村", "value": "渋谷区"},
				map[string]any{"label": "町名・番地", "value": "神宮前1-1"}, required(nameT)[5], required(nameT)[6]), "dropFirstAnswer": true, "blockPostal": true},
			{"name": "forged", "url": f.URL + "#linesim_id_token=" + forgedTok, "fill": required("なりすましＦＦＦ")},
			{"name": "jiro", "url": reused, "fill": required("次郎ＪＪＪ")},
			{"name": "jiro-again", "url": reused, "fill": required("次郎の再送ＫＫＫ")},
		},
	})
	script, _ := filepath.Abs(filepath.Join("..", "..", "frontend", "forms-page", "test", "phone.mjs"))
	cctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(cctx, "node", script, string(arg))
	cmd.Env = append(os.Environ(), "TSUNAGU_CHROMIUM="+chromium)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	outb, err := cmd.Output()
	if err != nil {
		t.Fatalf("phone: %v\n%s", err, stderr.String())
	}
	var out struct {
		Outside string     `json:"outside"`
		Runs    []phoneRun `json:"runs"`
	}
	if err := json.Unmarshal(outb, &out); err != nil || len(out.Runs) != 5 {
		t.Fatalf("phone said %s (%v)", outb, err)
	}
	if !strings.Contains(out.Outside, "LINEのトーク画面") || strings.Contains(out.Outside, "送信する") {
		t.Fatalf("outside LINE: %q", out.Outside)
	}
	h := out.Runs[0]
	// Required: お名前, 生年月日, 電話番号, ご住所, ご相談の目的, 個人情報の取扱い.
	if len(h.Errors) != 6 || !strings.HasPrefix(h.Errors[0], "お名前: ") || h.Focused != "q1" {
		t.Fatalf("empty submit: errors %q, focus %q", h.Errors, h.Focused)
	}
	if h.ErrorsAfterFill != 0 {
		t.Fatalf("%d error messages stayed after the fields were corrected", h.ErrorsAfterFill)
	}
	if strings.Contains(h.URL, "linesim_id_token") {
		t.Fatal("the ID token stayed in the page's address")
	}
	for _, r := range out.Runs {
		if !strings.Contains(r.Done, "送信しました。ご来店をお待ちしております。") {
			t.Fatalf("%s: done page %q", r.Name, r.Done)
		}
		loan := strings.Contains(r.Confirm, "住宅ローンの有無")
		if (r.Name == "hanako") != loan || (r.Name == "hanako") != strings.Contains(strings.Join(r.Shown, "|"), "住宅ローンの有無") {
			t.Fatalf("%s: the 住宅ローン section shown %v on the form, %v on the confirmation step: %q", r.Name, r.Shown, loan, r.Confirm)
		}
		if !strings.Contains(r.Confirm, "個人情報の取扱い\n同意する") || !strings.Contains(r.Confirm, "ご相談について") || !strings.Contains(r.Confirm, "ご住所\n〒") {
			t.Fatalf("%s: confirmation step %q", r.Name, r.Confirm)
		}
	}
	if c := out.Runs[0].Confirm; !strings.Contains(c, "ご関心のある商品\niDeCo、NISA") || !strings.Contains(c, "住宅ローンの有無\nあり") {
		t.Fatalf("hanako's confirmation step: %q", c)
	}
	if tr := out.Runs[1]; tr.Posts != 2 || tr.Kept != nameT || tr.FirstStatus != 202 {
		t.Fatalf("lost reply: %+v", tr)
	}

	got := e.drain(t)
	want := "stored,stored,duplicate,rejected,stored,rejected"
	if strings.Join(got, ",") != want {
		t.Fatalf("outcomes %v, want %s", got, want)
	}
	ans, err := e.svc.Answers(ctx, "staff:1", f.ID)
	if err != nil || len(ans) != 3 {
		t.Fatalf("answers: %d %v", len(ans), err)
	}
	by := map[string]forms.Answer{}
	for _, a := range ans {
		by[a.DisplayName] = a
	}
	a := by["はなこ"]
	if a.Customer != "山田 花子" || len(a.Values) != 21 || a.Values["birth"] != "1985-04-01" || a.Values["name"] != nameH || a.Values["note"] != noteH ||
		a.Values["purpose"] != "住宅ローン" || a.Values["branch"] != "駅前支店" || a.Values["consent"] != "agreed" {
		t.Fatalf("hanako's answer: %+v", a)
	}
	if addr, _ := a.Values["addr"].(map[string]any); addr["code"] != "1000001" || addr["pref"] != "東京都" || addr["city"] != "千代田区" || addr["town"] != "千代田1-1" {
		t.Fatalf("hanako's address: %+v", a.Values["addr"])
	}
	if l := out.Runs[0].Lookups; len(l) != 1 || l[0].Pref != "東京都" || l[0].City != "千代田区" || l[0].Town != "千代田" {
		t.Fatalf("hanako's lookup filled %+v", l)
	}
	if l := out.Runs[1].Lookups; len(l) != 1 || l[0].Pref != "" || l[0].City != "" {
		t.Fatalf("taro's failed lookup filled %+v", l)
	}
	if addr, _ := by["たろう"].Values["addr"].(map[string]any); addr["pref"] != "東京都" || addr["city"] != "渋谷区" || addr["code"] != "1500001" {
		t.Fatalf("taro's address typed by hand: %+v", by["たろう"].Values["addr"])
	}
	if by["じろう"].Values["birth"] != "1990-01-02" {
		t.Fatalf("jiro's 和暦 birth date: %v", by["じろう"].Values["birth"])
	}
	if by["たろう"].Customer != "佐藤 太郎" || by["たろう"].Values["name"] != nameT {
		t.Fatalf("taro's answer: %+v", by["たろう"])
	}
	if _, ok := by["じろう"].Values["loan"]; ok || by["じろう"].Values["name"] != "次郎ＪＪＪ" {
		t.Fatalf("jiro's answer: %+v", by["じろう"])
	}
	rej, _ := e.svc.Rejects(ctx, f.ID)
	if rej[forms.RejectForged] != 1 || rej[forms.RejectReplayed] != 1 {
		t.Fatalf("rejects %v", rej)
	}
	for _, u := range []string{hanako, taro, jiro} {
		n := 0
		for _, d := range e.sim.Deliveries(u) {
			if d.Text == "事前シートのご回答ありがとうございました。" {
				n++
			}
		}
		if n != 1 {
			t.Fatalf("%s got %d thank-you messages", u, n)
		}
	}

	// Nothing typed is in the relay's files or log.
	secrets := []string{nameH, noteH, nameT, "なりすましＦＦＦ", "次郎ＪＪＪ", "hanako@example.jp", "090-1234-5678"}
	filepath.WalkDir(dataDir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		data, _ := os.ReadFile(p)
		for _, s := range secrets {
			if bytes.Contains(data, []byte(s)) {
				t.Errorf("relay file %s holds %q", p, s)
			}
		}
		return nil
	})
	log := relayLog.String()
	for _, s := range secrets {
		if strings.Contains(log, s) {
			t.Errorf("relay log holds %q", s)
		}
	}
	_ = linesim.IDTokenIssuer
}
