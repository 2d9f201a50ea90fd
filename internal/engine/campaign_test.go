package engine

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"tsunagu/internal/campaign"
	"tsunagu/internal/linesim"
	"tsunagu/internal/mail"
	"tsunagu/internal/mail/mailtest"
	"tsunagu/internal/secrets"
	"tsunagu/internal/secrets/secretstest"
	"tsunagu/internal/segment"
	"tsunagu/internal/sms"
)

// The engine wires campaigns to the live LINE client, the SMTP and SMS
// settings (keychain secrets included), and resumes a send cut short by a
// shutdown when it starts again.
func TestCampaignThroughTheEngine(t *testing.T) {
	kr := secretstest.Keyring(t)
	ctx := context.Background()
	const secret, token = "0123456789abcdef0123456789abcdef", "campaign-e2e-access-token-0123456789"
	sim := linesim.New(linesim.Config{ChannelSecret: secret, AccessToken: token, Latency: 300 * time.Millisecond})
	if err := sim.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	smtpSrv, err := mailtest.Start(mailtest.Options{NoAuth: true})
	if err != nil {
		t.Fatal(err)
	}
	defer smtpSrv.Close()
	const hookSecret = "engine-test-sms-webhook-secret"
	var mu sync.Mutex
	smsGot := map[string]int{}
	seenKeys := map[string]bool{}
	smsSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if r.Header.Get("X-Tsunagu-Signature") != sms.Signature([]byte(hookSecret), r.Header.Get("X-Tsunagu-Timestamp"), body) {
			w.WriteHeader(401)
			return
		}
		var m struct{ To string }
		json.Unmarshal(body, &m)
		mu.Lock()
		defer mu.Unlock()
		if key := r.Header.Get("Idempotency-Key"); !seenKeys[key] {
			seenKeys[key] = true
			smsGot[m.To]++
		}
	}))
	defer smsSrv.Close()

	dir := filepath.Join(t.TempDir(), "data")
	secretstest.CleanupDataDir(t, kr, dir)
	res, err := Init(ctx, dir, kr)
	if err != nil {
		t.Fatal(err)
	}
	sec := secrets.New(kr, res.InstallID)
	if err := sec.SetChannel(ctx, secrets.Channel{Secret: secret, AccessToken: token}); err != nil {
		t.Fatal(err)
	}
	if err := sec.SetDeliverySecret(ctx, secrets.ItemSMSWebhookSecret, hookSecret); err != nil {
		t.Fatal(err)
	}
	start := func() *Engine {
		eng, err := Start(ctx, Options{DataDir: dir, Keyring: kr, LineEndpoint: sim.URL()})
		if err != nil {
			t.Fatal(err)
		}
		if eng.Sandbox() {
			t.Fatal("want live mode")
		}
		return eng
	}
	eng := start()
	_, port := smtpSrv.Addr()
	if err := campaign.SaveMailSettings(ctx, eng.DB(), "staff:admin", 0, mail.Settings{Host: "127.0.0.1", Port: port, TLS: mail.TLSNone, From: "info@example.jp"}); err != nil {
		t.Fatal(err)
	}
	if err := campaign.SaveSMSSettings(ctx, eng.DB(), "staff:admin", 0, sms.Settings{Provider: sms.ProviderWebhook, WebhookURL: smsSrv.URL}); err != nil {
		t.Fatal(err)
	}
	// 1,200 LINE friends, 10 email-only and 10 SMS-only customers.
	var users []string
	err = eng.DB().Write(ctx, func(tx *sql.Tx) error {
		for i := range 1220 {
			var id int64
			email, mobile := "", ""
			switch {
			case i >= 1210:
				mobile = fmt.Sprintf("090%08d", i)
			case i >= 1200:
				email = fmt.Sprintf("c%d@example.jp", i)
			}
			if err := tx.QueryRowContext(ctx, `INSERT INTO customers (customer_no, name, email, mobile, created_at, updated_at) VALUES (?, ?, ?, ?, 0, 0) RETURNING id`,
				fmt.Sprintf("C%05d", i), "顧客", email, mobile).Scan(&id); err != nil {
				return err
			}
			for _, ch := range []string{"line", "email", "sms"} {
				if _, err := tx.ExecContext(ctx, `INSERT INTO consents VALUES (?, ?, 1, 't', 0)`, id, ch); err != nil {
					return err
				}
			}
			if i < 1200 {
				u := linesim.NewUserID()
				users = append(users, u)
				sim.AddCustomer(linesim.Customer{UserID: u, DisplayName: "c", Following: true})
				if _, err := tx.ExecContext(ctx, `INSERT INTO line_users (user_id, created_at) VALUES (?, 0)`, u); err != nil {
					return err
				}
				if _, err := tx.ExecContext(ctx, `INSERT INTO customer_line_links VALUES (?, ?, 0, 'manual', '')`, id, u); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	svc := eng.Campaigns()
	d := campaign.Draft{Name: "お知らせ", Rules: segment.Node{Op: "and"}, Channels: []string{campaign.ChannelLine, campaign.ChannelEmail, campaign.ChannelSMS},
		Content: campaign.Content{Line: []campaign.LineMessage{{Kind: "text", Text: "お知らせです"}},
			Email: campaign.Email{Subject: "お知らせ", Text: "{氏名} 様"}, SMS: campaign.SMS{Text: "お知らせです"}}}
	c, err := svc.Create(ctx, "staff:op", d)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Approve(ctx, "staff:ap", c.ID, c.Version); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.SendNow(ctx, "staff:ap", c.ID); err != nil {
		t.Fatal(err)
	}
	// Shut down while the LINE requests are in flight (300 ms of latency):
	// the send is cut short; the next start resumes it.
	for tried := false; !tried; time.Sleep(5 * time.Millisecond) {
		// The first attempt is stamped just before the requests leave.
		eng.DB().Reader().QueryRow(`SELECT EXISTS (SELECT 1 FROM campaign_line_requests WHERE first_tried_at IS NOT NULL)`).Scan(&tried)
	}
	time.Sleep(100 * time.Millisecond)
	if err := eng.Close(); err != nil {
		t.Fatal(err)
	}
	eng = start()
	defer eng.Close()
	deadline := time.Now().Add(30 * time.Second)
	for {
		got, err := eng.Campaigns().Get(ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Status == campaign.StatusDone {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not resumed to the end: %+v", got)
		}
		time.Sleep(50 * time.Millisecond)
	}
	// The shutdown cut LINE requests short; the resumed send repeated them
	// with the keys stored before the first attempt.
	perKey := map[string]int{}
	for _, r := range sim.Requests() {
		perKey[r.RetryKey]++
	}
	repeated := 0
	for _, n := range perKey {
		if n > 1 {
			repeated++
		}
	}
	if repeated == 0 {
		t.Fatal("no LINE request was repeated: the shutdown did not interrupt the send")
	}
	for _, u := range users {
		if n := len(sim.Deliveries(u)); n != 1 {
			t.Fatalf("LINE user got %d messages, want 1", n)
		}
	}
	perAddr := map[string]int{}
	for _, m := range smtpSrv.Messages() {
		perAddr[m.To[0]]++
	}
	for i := 1200; i < 1210; i++ {
		if n := perAddr[fmt.Sprintf("c%d@example.jp", i)]; n != 1 {
			t.Fatalf("customer %d got %d emails", i, n)
		}
	}
	mu.Lock()
	if len(smsGot) != 10 {
		t.Fatalf("%d numbers got an SMS, want 10", len(smsGot))
	}
	mu.Unlock()
	// The notifier for one-off codes goes through the same settings.
	if err := eng.Notifier().SendEmail(ctx, "hanako@example.jp", "連携コード", "ABCD-EFGH", "link-1"); err != nil {
		t.Fatal(err)
	}
	if n := len(smtpSrv.Messages()); n != 11 {
		t.Fatalf("%d emails after the notifier, want 11", n)
	}
}
