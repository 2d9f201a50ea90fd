package forms_test

import (
	"context"
	"database/sql"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"tsunagu/internal/forms"
	"tsunagu/internal/line"
	"tsunagu/internal/linesim"
	"tsunagu/internal/linesim/linesimtest"
	"tsunagu/internal/outbox"
	"tsunagu/internal/relay"
	"tsunagu/internal/relay/relaytest"
	"tsunagu/internal/relayclient"
	"tsunagu/internal/store"
	"tsunagu/internal/store/storetest"
)

const liffID = "1657000000-FormTest"

// env is the whole intake path on loopback: a relay, an enrolled desktop
// (relay client, encrypted DB, outbox), and the LINE simulator answering
// both the Messaging API (the thank-you push) and LINE Login's verify.
type env struct {
	clock  *movable // the desktop's and LINE's clock (the relay stamps receipt with its own)
	db     *store.DB
	sim    *linesimtest.Sim
	relay  *relaytest.Relay
	client *relayclient.Client
	svc    *forms.Service
	outbox *outbox.Outbox
}

func newEnv(t *testing.T, rcfg relay.Config) *env {
	t.Helper()
	ctx := context.Background()
	e := &env{db: storetest.New(t), clock: &movable{}}
	e.sim = linesimtest.Start(t, linesim.Config{ChannelSecret: "s3cr3t", AccessToken: "tok", Clock: e.clock.Now}, line.Config{})
	if rcfg.LIFFSDK == "" {
		rcfg.LIFFSDK = e.sim.URL() + linesim.LIFFSDKPath
	}
	e.relay = relaytest.Start(t, rcfg)
	keys, err := relayclient.GenerateKeys()
	if err != nil {
		t.Fatal(err)
	}
	en, err := relayclient.Enroll(ctx, nil, e.relay.URL, e.relay.Tenant(t, "本店"), keys, relayclient.HTTPLoopback)
	if err != nil {
		t.Fatal(err)
	}
	if e.client, err = relayclient.New(relayclient.Config{Enrollment: en, Keys: keys}); err != nil {
		t.Fatal(err)
	}
	verifier, err := line.NewIDTokenVerifier(line.IDTokenConfig{Endpoint: e.sim.URL(), ChannelID: e.sim.LoginChannelID(), Clock: e.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	ob, err := outbox.New(outbox.Config{DB: e.db, Sender: e.sim.Client})
	if err != nil {
		t.Fatal(err)
	}
	e.outbox = ob
	e.svc, err = forms.New(forms.Config{DB: e.db, Verifier: verifier, Thanks: ob, Clock: e.clock.Now,
		Relay:  func(context.Context) (forms.Publisher, bool) { return e.client, true },
		LIFFID: func(context.Context) string { return liffID }})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// movable is the wall clock moved ahead by a test (the desktop switched
// off for hours while answers queue at the relay).
type movable struct{ ahead atomic.Int64 }

func (m *movable) Now() time.Time          { return time.Now().Add(time.Duration(m.ahead.Load())) }
func (m *movable) Advance(d time.Duration) { m.ahead.Add(int64(d)) }

// friend adds a LINE friend on the simulator and in the DB, linked to a
// new customer when name is not "".
func (e *env) friend(t *testing.T, display, customerName string, customerID int64) string {
	t.Helper()
	u := linesim.NewUserID()
	e.sim.AddCustomer(linesim.Customer{UserID: u, DisplayName: display, Following: true})
	err := e.db.Write(context.Background(), func(tx *sql.Tx) error {
		if _, err := tx.Exec(`INSERT INTO line_users (user_id, display_name, created_at) VALUES (?, ?, 0)`, u, display); err != nil {
			return err
		}
		if customerName == "" {
			return nil
		}
		if _, err := tx.Exec(`INSERT INTO customers (id, customer_no, name, name_kana, branch, status, created_at, updated_at)
			VALUES (?, ?, ?, 'カナ', '本店', 'active', 0, 0)`, customerID, fmt.Sprintf("C%05d", customerID), customerName); err != nil {
			return err
		}
		_, err := tx.Exec(`INSERT INTO customer_line_links (customer_id, line_user_id, linked_at, method) VALUES (?, ?, 0, 'manual')`, customerID, u)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// drain takes everything queued at the relay through intake, as the
// engine's relay handler does, and returns the outcomes.
func (e *env) drain(t *testing.T) []string {
	t.Helper()
	var out []string
	_, err := e.client.DrainBatch(context.Background(), func(ctx context.Context, evs []relayclient.Event) []error {
		errs := make([]error, len(evs))
		for i, ev := range evs {
			if ev.Form == nil {
				t.Errorf("event %d is not a form submission", i)
				continue
			}
			res, err := e.svc.Intake(ctx, forms.Submission{Form: ev.Form, ReceivedAt: ev.ReceivedAt})
			errs[i] = err
			if err == nil {
				out = append(out, res)
			}
		}
		return errs
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// twentyQuestions is a needs survey of 20 questions of every type.
func twentyQuestions() forms.Draft {
	lo, hi := 0.0, 120.0
	qs := []forms.Question{
		{ID: "name", Type: forms.TypeText, Label: "お名前", Required: true},
		{ID: "kana", Type: forms.TypeText, Label: "フリガナ", MaxLen: 40},
		{ID: "birth", Type: forms.TypeDate, Label: "生年月日", Required: true},
		{ID: "age", Type: forms.TypeNumber, Label: "年齢", Min: &lo, Max: &hi},
		{ID: "email", Type: forms.TypeEmail, Label: "メールアドレス"},
		{ID: "phone", Type: forms.TypePhone, Label: "電話番号", Required: true},
		{ID: "purpose", Type: forms.TypeChoice, Label: "ご相談の目的", Required: true, Choices: []string{"資産運用", "住宅ローン", "保険の見直し"}, Attribute: "purpose"},
		{ID: "products", Type: forms.TypeMulti, Label: "ご関心のある商品", Choices: []string{"定期預金", "投資信託", "iDeCo", "NISA"}},
		{ID: "income", Type: forms.TypeChoice, Label: "世帯年収", Choices: []string{"400万円未満", "400〜800万円", "800万円以上"}},
		{ID: "family", Type: forms.TypeNumber, Label: "ご家族の人数", Min: &lo},
		{ID: "home", Type: forms.TypeChoice, Label: "お住まい", Choices: []string{"持ち家", "賃貸", "その他"}},
		{ID: "loan", Type: forms.TypeChoice, Label: "住宅ローンの有無", Choices: []string{"あり", "なし"}},
		{ID: "savings", Type: forms.TypeText, Label: "毎月の積立額（円）"},
		{ID: "risk", Type: forms.TypeChoice, Label: "値動きへの考え方", Choices: []string{"安定重視", "バランス", "積極的"}},
		{ID: "time", Type: forms.TypeMulti, Label: "ご連絡の希望時間帯", Choices: []string{"午前", "午後", "夕方"}},
		{ID: "branch", Type: forms.TypeChoice, Label: "ご来店予定の店舗", Choices: []string{"本店", "駅前支店"}},
		{ID: "visit", Type: forms.TypeDate, Label: "ご来店希望日"},
		{ID: "note", Type: forms.TypeLongText, Label: "ご相談内容", Help: "ご自由にお書きください"},
		{ID: "source", Type: forms.TypeChoice, Label: "当行を知ったきっかけ", Choices: []string{"店頭", "LINE", "紹介"}},
		{ID: "consent", Type: forms.TypeConsent, Label: "個人情報の取扱い", Required: true, Consent: "ご記入の情報は、ご相談への対応のために利用します。"},
	}
	return forms.Draft{Title: "ご相談事前シート", Intro: "ご来店前にご記入ください。", Done: "送信しました。ご来店をお待ちしております。",
		Thanks: "事前シートのご回答ありがとうございました。", Questions: qs}
}

// sectioned groups the 20 questions in sections, with the birth date
// typed in 西暦 or 和暦 and a required address found from its postal code
// (21 questions); the 「住宅ローンについて」 section, holding 住宅ローンの有無
// (then required), shows only when the purpose is 住宅ローン.
func sectioned(d forms.Draft) forms.Draft {
	sec := func(id, title string) forms.Question {
		return forms.Question{ID: id, Type: forms.TypeSection, Label: title}
	}
	var qs []forms.Question
	for _, q := range d.Questions {
		switch q.ID {
		case "name":
			qs = append(qs, sec("s_you", "お客さまについて"))
		case "purpose":
			qs = append(qs, sec("s_consult", "ご相談について"))
		case "loan":
			s := sec("s_loan", "住宅ローンについて")
			s.Help = "住宅ローンのご相談の方だけにお伺いします。"
			s.ShowIf = &forms.Condition{Question: "purpose", Values: []string{"住宅ローン"}}
			qs = append(qs, s)
			q.Required = true
		case "savings":
			qs = append(qs, sec("s_wish", "ご希望"))
		case "consent":
			qs = append(qs, sec("s_check", "確認"))
		}
		if q.ID == "birth" {
			q.Type = forms.TypeBirth
		}
		qs = append(qs, q)
		if q.ID == "phone" {
			qs = append(qs, forms.Question{ID: "addr", Type: forms.TypePostal, Label: "ご住所", Required: true})
		}
	}
	d.Questions = qs
	return d
}
