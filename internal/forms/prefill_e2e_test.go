package forms_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"tsunagu/internal/forms"
	"tsunagu/internal/relay"
	"tsunagu/internal/relay/wire"
)

// flakyRelay is the relay client with its first prefill upload failing (the
// relay unreachable for a moment).
type flakyRelay struct {
	forms.Publisher
	inner interface {
		PublishPrefill(context.Context, wire.FormPrefill) error
	}
	fails   atomic.Int32
	uploads atomic.Int32
}

func (f *flakyRelay) PublishPrefill(ctx context.Context, p wire.FormPrefill) error {
	if f.fails.Add(-1) >= 0 {
		return errors.New("dial tcp: connection refused")
	}
	f.uploads.Add(1)
	return f.inner.PublishPrefill(ctx, p)
}

// TestPrefillEndToEnd: "a prefilled link decrypts only with its fragment"
// with real processes on loopback: the relay (its own data folder, log and
// clock), the desktop (relay client, encrypted DB, forms service, outbox),
// the LINE simulator (LIFF stand-in carrying the LIFF URL's query and
// fragment in ?liff.state= as LINE does, Messaging API) and Chromium at
// 375×667:
//   - the clerk's send: the relay unreachable the first time (nothing
//     sent, the clerk told), the retry with the same request key reuses
//     the blob; a third press sends nothing more: one LINE message;
//     audited with the fields, never the values;
//   - opened by its customer: the values filled in and marked, the key and
//     the blob's ID gone from the address bar; she corrects one and sends:
//     stored against her;
//   - the same link without its fragment, with another key, opened by
//     another LINE user, and after expiry: the empty form with a calm
//     note naming nobody;
//   - the relay's data folder and log hold no value and no key.
func TestPrefillEndToEnd(t *testing.T) {
	chromium := os.Getenv("TSUNAGU_CHROMIUM")
	if chromium == "" {
		chromium = "/usr/bin/chromium"
	}
	if _, err := os.Stat(chromium); err != nil {
		t.Fatalf("Chromium is needed at %s (Debian's chromium package): %v", chromium, err)
	}
	dataDir := t.TempDir()
	var relayLog lockedBuffer
	relayClock := &movable{}
	e := newEnv(t, relay.Config{DataDir: dataDir, Clock: relayClock.Now,
		Logger: slog.New(slog.NewTextHandler(&relayLog, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	ctx := context.Background()
	hanako := e.friend(t, "はなこ", "山田 花子", 7)
	taro := e.friend(t, "たろう", "佐藤 太郎", 8)
	const (
		kana     = "ヤマダハナコＰ"
		building = "丸の内ビルＰＰＰ３階"
		mobile   = "09055556666"
		email    = "hanako.prefill@example.jp"
	)
	if err := e.db.Write(ctx, func(tx *sql.Tx) error {
		if _, err := tx.Exec(`UPDATE customers SET name_kana = ?, birth_date = '1985-04-01', postal_code = '100-0005', address = ? WHERE id = 7`,
			kana, "東京都千代田区丸の内1-1 "+building); err != nil {
			return err
		}
		_, err := tx.Exec(`INSERT INTO contact_points (customer_id, kind, value, source, created_at) VALUES (7, 'mobile', ?, 'manual', 0), (7, 'email', ?, 'manual', 0)`,
			mobile, email)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	d := forms.Draft{Title: "住所変更届", Done: "受け付けました。", PrefillDays: 7, Questions: []forms.Question{
		{ID: "name", Type: forms.TypeText, Label: "お名前", Required: true, Prefill: forms.FieldName},
		{ID: "kana", Type: forms.TypeText, Label: "フリガナ", Prefill: forms.FieldKana},
		{ID: "birth", Type: forms.TypeBirth, Label: "生年月日", Prefill: forms.FieldBirth},
		{ID: "addr", Type: forms.TypePostal, Label: "新しいご住所", Required: true, Prefill: forms.FieldAddress},
		{ID: "phone", Type: forms.TypePhone, Label: "電話番号", Prefill: forms.FieldPhone},
		{ID: "email", Type: forms.TypeEmail, Label: "メールアドレス", Prefill: forms.FieldEmail},
		{ID: "note", Type: forms.TypeLongText, Label: "備考"},
	}}
	f := publishDraft(t, e, d)
	tok := token(f)

	// The preview: what will be filled.
	pv, err := e.svc.PrefillPreview(ctx, f.ID, hanako)
	if err != nil || pv.Customer != "山田 花子" || len(pv.Values) != 6 || pv.Values[3].Value != "〒100-0005 東京都千代田区丸の内1-1 "+building || pv.Days != 7 {
		t.Fatalf("preview %+v %v", pv, err)
	}

	// The clerk's send: the relay refuses the connection once.
	flaky := &flakyRelay{Publisher: e.client, inner: e.client}
	flaky.fails.Store(1)
	svc, err := forms.New(forms.Config{DB: e.db, Thanks: e.outbox, Clock: e.clock.Now,
		Relay: func(context.Context) (forms.Publisher, bool) { return flaky, true }, LIFFID: func(context.Context) string { return liffID }})
	if err != nil {
		t.Fatal(err)
	}
	const reqKey = "req-0123456789abcdef"
	if _, err := svc.SendPrefilled(ctx, "staff:1", f.ID, hanako, reqKey); !errors.Is(err, forms.ErrRelayDown) {
		t.Fatalf("relay down: %v", err)
	}
	if n := len(e.sim.Deliveries(hanako)); n != 0 {
		t.Fatalf("%d messages sent while the relay was down", n)
	}
	sent, err := svc.SendPrefilled(ctx, "staff:1", f.ID, hanako, reqKey)
	if err != nil || strings.Join(sent.Fields, ",") != "name,kana,birthDate,address,phone,email" {
		t.Fatalf("send: %+v %v", sent, err)
	}
	if _, err := svc.SendPrefilled(ctx, "staff:1", f.ID, hanako, reqKey); err != nil {
		t.Fatalf("a third press: %v", err)
	}
	if _, err := svc.SendPrefilled(ctx, "staff:1", f.ID, taro, reqKey); !errors.Is(err, forms.ErrRequestKey) {
		t.Fatalf("the key of another send: %v", err)
	}
	ds := e.sim.Deliveries(hanako)
	if len(ds) != 1 || flaky.uploads.Load() != 1 {
		t.Fatalf("%d messages, %d uploads", len(ds), flaky.uploads.Load())
	}
	link := ""
	for _, l := range strings.Split(ds[0].Text, "\n") {
		if strings.HasPrefix(l, f.URL+"?p=") {
			link = l
		}
	}
	base, frag, ok := strings.Cut(link, "#")
	if !ok || !strings.HasPrefix(frag, "k=") || !strings.Contains(ds[0].Text, "住所変更届") {
		t.Fatalf("message %q", ds[0].Text)
	}
	key, _ := base64.RawURLEncoding.DecodeString(strings.TrimPrefix(frag, "k="))
	var detail string
	if err := e.db.Reader().QueryRowContext(ctx, `SELECT detail FROM audit_log WHERE action = ?`, forms.ActionPrefillSend).Scan(&detail); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(detail, "name,kana,birthDate,address,phone,email") || !strings.Contains(detail, `"customer":"7"`) ||
		strings.Contains(detail, "山田") || strings.Contains(detail, mobile) || strings.Contains(detail, frag) {
		t.Fatalf("audit detail %s", detail)
	}
	var keyLeft []byte
	e.db.Reader().QueryRowContext(ctx, `SELECT link_key FROM form_prefills`).Scan(&keyLeft)
	if keyLeft != nil {
		t.Fatal("the link's key stayed in the desktop's table after the message was queued")
	}

	wrong := make([]byte, 32)
	rand.Read(wrong)
	open := func(user, u string) string {
		s, err := e.sim.LIFFURL(user, u)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	read := []string{"お名前 必須", "フリガナ 任意", "生年月日 任意", "郵便番号", "都道府県", "市区町村", "町名・番地", "建物名・部屋番号（任意）", "電話番号 任意", "メールアドレス 任意"}
	shots, _ := filepath.Abs(filepath.Join("..", "..", "test-artifacts", "ui"))
	os.MkdirAll(shots, 0o755)
	phone := func(runs []map[string]any) []prefillRun {
		t.Helper()
		arg, _ := json.Marshal(map[string]any{"shots": shots, "outside": f.URL, "runs": runs})
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
		var out struct{ Runs []prefillRun }
		if err := json.Unmarshal(outb, &out); err != nil || len(out.Runs) != len(runs) {
			t.Fatalf("phone said %s (%v)", outb, err)
		}
		return out.Runs
	}
	runs := phone([]map[string]any{
		{"name": "prefill-owner", "url": open(hanako, link), "read": read, "shotOpened": true,
			"fill": []map[string]any{{"label": "備考 任意", "value": "転居しました"}, {"label": "町名・番地", "value": "丸の内2-2"}}},
		{"name": "prefill-nofragment", "url": open(hanako, base), "read": read, "readOnly": true, "shotOpened": true},
		{"name": "prefill-wrongkey", "url": open(hanako, base+"#"+wire.PrefillFragment(wrong)), "read": read, "readOnly": true},
		{"name": "prefill-otheruser", "url": open(taro, link), "read": read, "readOnly": true},
	})
	own := runs[0]
	want := map[string]string{"お名前 必須": "山田 花子", "フリガナ 任意": kana, "生年月日 任意": "1985-04-01", "郵便番号": "1000005", "都道府県": "東京都",
		"市区町村": "千代田区", "町名・番地": "丸の内1-1", "建物名・部屋番号（任意）": building, "電話番号 任意": mobile, "メールアドレス 任意": email}
	for l, v := range want {
		if own.Values[l] != v {
			t.Errorf("prefilled %s = %q, want %q", l, own.Values[l], v)
		}
	}
	if own.Marks != 6 || !strings.Contains(own.Main, "登録済みの情報を入れてあります。違っていれば直してください。") || own.Note != "" {
		t.Fatalf("owner's page: %d marks, note %q", own.Marks, own.Note)
	}
	if strings.Contains(own.URL, "k=") || strings.Contains(own.URL, "p=") || strings.Contains(own.URL, "liff.state") || strings.Contains(own.URL, "#") {
		t.Fatalf("the address bar kept %s", own.URL)
	}
	for _, r := range runs[1:] {
		for l, v := range r.Values {
			if v != "" {
				t.Errorf("%s: %s shows %q", r.Name, l, v)
			}
		}
		if r.Marks != 0 || !strings.Contains(r.Note, "登録済みの情報は表示できませんでした") || strings.Contains(r.Main, "山田") || strings.Contains(r.Main, "花子") {
			t.Errorf("%s: %d marks, note %q", r.Name, r.Marks, r.Note)
		}
	}

	// The answer, stored against her, with her correction.
	got := e.drain(t)
	if strings.Join(got, ",") != "stored" {
		t.Fatalf("outcomes %v", got)
	}
	ans, err := e.svc.Answers(ctx, "staff:1", f.ID)
	if err != nil || len(ans) != 1 || ans[0].Customer != "山田 花子" || ans[0].Values["name"] != "山田 花子" || ans[0].Values["note"] != "転居しました" ||
		ans[0].Values["birth"] != "1985-04-01" || ans[0].Values["phone"] != mobile {
		t.Fatalf("answers %+v %v", ans, err)
	}
	if a, _ := ans[0].Values["addr"].(map[string]any); a["town"] != "丸の内2-2" || a["building"] != building || a["code"] != "1000005" {
		t.Fatalf("address %+v", ans[0].Values["addr"])
	}

	// After its expiry (the relay's clock): the empty form.
	relayClock.Advance(7*24*time.Hour + time.Minute)
	runs = phone([]map[string]any{{"name": "prefill-expired", "url": open(hanako, link), "read": read, "readOnly": true, "shotOpened": true}})
	if r := runs[0]; r.Values["お名前 必須"] != "" || r.Marks != 0 || !strings.Contains(r.Note, "登録済みの情報は表示できませんでした") {
		t.Fatalf("expired: %+v", r)
	}

	// Neither the values nor the key at the relay.
	secrets := [][]byte{[]byte(kana), []byte(building), []byte(mobile), []byte(email), []byte(strings.TrimPrefix(frag, "k=")), key, []byte("山田 花子")}
	filepath.WalkDir(dataDir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		data, _ := os.ReadFile(p)
		for _, s := range secrets {
			if bytes.Contains(data, s) {
				t.Errorf("relay file %s holds %q", p, s)
			}
		}
		return nil
	})
	log := relayLog.String()
	for _, s := range secrets {
		if strings.Contains(log, string(s)) {
			t.Errorf("relay log holds %q", s)
		}
	}
	_ = tok
}

type prefillRun struct {
	Name   string            `json:"name"`
	URL    string            `json:"url"`
	Values map[string]string `json:"values"`
	Marks  int               `json:"marks"`
	Note   string            `json:"note"`
	Main   string            `json:"main"`
	Done   string            `json:"done"`
}
