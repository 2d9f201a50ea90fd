package facade

import (
	"bytes"
	"context"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"tsunagu/internal/auth"
	"tsunagu/internal/secrets/secretstest"
)

// syncBuffer collects everything the app logs during a test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestLogsHoldNoSecretsOrPII runs the sensitive paths end to end (sign-in
// failures and lockout, customer messages, replies, channel credentials, the
// recovery code, forbidden calls, backups, erasure) with the logger at
// debug level, then scans everything logged for the seeded passwords,
// tokens, codes and customer data.
func TestLogsHoldNoSecretsOrPII(t *testing.T) {
	kr := secretstest.Keyring(t)
	dir := filepath.Join(t.TempDir(), "data")
	secretstest.CleanupDataDir(t, kr, dir)
	logs := &syncBuffer{}
	logger := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	h := New(Options{DataDir: dir, Keyring: kr, Version: "test", AuthParams: testParams, Logger: logger})
	if err := h.Start(context.Background(), &recorder{}); err != nil {
		t.Fatal(err)
	}
	defer h.Stop()
	app := h.App()

	const (
		adminPW    = "seeded admin passphrase"
		operatorPW = "seeded operator passphrase"
		wrongPW    = "seeded-wrong-password-typo"
		pii        = "090-1234-5678 山田花子 hanako@example.jp"
		replyText  = "口座番号 1234567 の件でご連絡します"
		channelSec = "5eeded0c4a11e15ec12e7000000000ab"
		channelTok = "SEEDEDTOKENvalue0123456789abcdefXYZ"
	)
	if _, err := (&SessionService{app}).CreateFirstAdmin("admin", "支店長", adminPW); err != nil {
		t.Fatal(err)
	}
	code, err := (&BackupService{app}).CreateRecoveryCode()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := addStaff(app, auth.NewStaff{Login: "ops", DisplayName: "担当", Role: auth.RoleOperator, Password: operatorPW}); err != nil {
		t.Fatal(err)
	}
	cs, err := sandboxSvc(app).SandboxCustomers()
	if err != nil {
		t.Fatal(err)
	}
	if err := sandboxSvc(app).SandboxSend(cs[0].UserID, pii); err != nil {
		t.Fatal(err)
	}
	convs, _ := inboxSvc(app).Conversations()
	if _, err := inboxSvc(app).Reply(convs[0].ID, replyText); err != nil {
		t.Fatal(err)
	}
	if _, err := inboxSvc(app).Reply(convs[0].ID, strings.Repeat(pii, 1000)); err == nil {
		t.Fatal("overlong reply accepted")
	}
	if _, err := (&BackupService{app}).BackupNow(); err != nil {
		t.Fatal(err)
	}
	// Failures and forbidden calls are logged: they must not carry the
	// values either.
	for range auth.LockoutThreshold + 1 {
		(&SessionService{app}).SignIn("ops", wrongPW)
	}
	(&SessionService{app}).SignIn(wrongPW, wrongPW) // a password typed into the login field
	if _, err := (&SessionService{app}).SignIn("admin", adminPW); err != nil {
		t.Fatal(err)
	}
	if _, err := (&ChannelService{app}).SaveChannel("bad secret with spaces", channelTok); err == nil {
		t.Fatal("invalid channel accepted")
	}
	if _, err := (&ChannelService{app}).SaveChannel(channelSec, channelTok); err != nil {
		t.Fatal(err)
	}
	if _, err := (&ChannelService{app}).ClearChannel(); err != nil {
		t.Fatal(err)
	}
	if err := (&ErasureService{app}).EraseConversation(convs[0].ID); err != nil {
		t.Fatal(err)
	}
	h.Stop()

	out := logs.String()
	if !strings.Contains(out, `"level":"WARN"`) {
		t.Fatalf("nothing was logged, so the scan proves nothing:\n%s", out)
	}
	seeded := map[string]string{
		"admin password": adminPW, "operator password": operatorPW, "mistyped password": wrongPW,
		"customer message": pii, "phone": "090-1234-5678", "email": "hanako@example.jp", "customer name": "山田花子",
		"reply": replyText, "account number": "1234567", "channel secret": channelSec, "channel token": channelTok,
		"token middle": channelTok[4 : len(channelTok)-4], "recovery code": code, "recovery code group": code[5:14],
		"LINE user ID": cs[0].UserID, "simulated customer name": cs[0].DisplayName,
	}
	for what, v := range seeded {
		if strings.Contains(out, v) {
			t.Errorf("the logs contain the %s", what)
		}
	}
}
