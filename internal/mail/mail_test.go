package mail

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"tsunagu/internal/mail/mailtest"
)

func startServer(t *testing.T, opts mailtest.Options) *mailtest.Server {
	t.Helper()
	srv, err := mailtest.Start(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv
}

func client(t *testing.T, srv *mailtest.Server, password string) *Client {
	t.Helper()
	host, port := srv.Addr()
	c, err := New(Settings{Host: host, Port: port, TLS: TLSStartTLS, User: srv.User, From: "info@example-shinkin.jp", FromName: "テスト信用金庫"},
		password, Options{TLSConfig: srv.TLSConfig(), Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestSendOverSTARTTLSWithAuth(t *testing.T) {
	srv := startServer(t, mailtest.Options{})
	c := client(t, srv, srv.Pass)
	id := MessageID("campaign-1-email-42", c.From())
	err := c.Send(context.Background(), Message{To: "hanako@example.jp", Subject: "満期のご案内", Text: "山田 花子 様\n定期預金が満期を迎えます。", MessageID: id})
	if err != nil {
		t.Fatal(err)
	}
	msgs := srv.Messages()
	if len(msgs) != 1 {
		t.Fatalf("%d messages, want 1", len(msgs))
	}
	m := msgs[0]
	if m.MessageID != id || !strings.HasSuffix(id, "@example-shinkin.jp") || m.To[0] != "hanako@example.jp" || m.From != "info@example-shinkin.jp" {
		t.Fatalf("message = %+v (want Message-ID %s)", m, id)
	}
	if !strings.Contains(m.Subject, "=?UTF-8?") && m.Subject != "満期のご案内" {
		t.Fatalf("subject %q not encoded", m.Subject)
	}
	if MessageID("campaign-1-email-42", c.From()) != id || MessageID("campaign-1-email-43", c.From()) == id {
		t.Fatal("Message-ID is not a function of the key")
	}
	if strings.Contains(id, "campaign") {
		t.Fatal("Message-ID reveals the key")
	}
}

func TestSendErrors(t *testing.T) {
	srv := startServer(t, mailtest.Options{RejectRcpt: func(to string) bool { return strings.HasPrefix(to, "gone@") }})
	ctx := context.Background()

	// A refused recipient is a definite failure: nothing was delivered.
	err := client(t, srv, srv.Pass).Send(ctx, Message{To: "gone@example.jp", Subject: "s", Text: "t"})
	if err == nil || errors.Is(err, ErrUncertain) {
		t.Fatalf("refused recipient: %v, want a definite error", err)
	}
	// Wrong password: definite, and the password is not in the error.
	err = client(t, srv, "wrong-password-x").Send(ctx, Message{To: "a@example.jp", Subject: "s", Text: "t"})
	if err == nil || errors.Is(err, ErrUncertain) || strings.Contains(err.Error(), "wrong-password-x") {
		t.Fatalf("bad auth: %v", err)
	}
	// An untrusted certificate fails closed before anything is sent.
	host, port := srv.Addr()
	c, err := New(Settings{Host: host, Port: port, TLS: TLSStartTLS, User: srv.User, From: "info@example.jp"}, srv.Pass, Options{Timeout: 3 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Send(ctx, Message{To: "a@example.jp", Subject: "s", Text: "t"}); err == nil || errors.Is(err, ErrUncertain) {
		t.Fatalf("untrusted cert: %v", err)
	}
	// Nothing listening: definite.
	c, _ = New(Settings{Host: "127.0.0.1", Port: 1, TLS: TLSStartTLS, From: "info@example.jp"}, "", Options{Timeout: time.Second})
	if err := c.Send(ctx, Message{To: "a@example.jp", Subject: "s", Text: "t"}); err == nil || errors.Is(err, ErrUncertain) {
		t.Fatalf("no server: %v", err)
	}
	if n := len(srv.Messages()); n != 0 {
		t.Fatalf("%d messages accepted, want 0", n)
	}
	// Header injection is refused.
	if err := client(t, srv, srv.Pass).Send(ctx, Message{To: "a@example.jp", Subject: "x\r\nBcc: evil@example.com", Text: "t"}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("subject with CRLF: %v", err)
	}
}

func TestSettingsValidate(t *testing.T) {
	ok := Settings{Host: "smtp.example.jp", Port: 587, TLS: TLSStartTLS, From: "info@example.jp"}
	for _, tt := range []struct {
		name string
		mod  func(*Settings)
		ok   bool
	}{
		{"valid", func(*Settings) {}, true},
		{"implicit TLS", func(s *Settings) { s.TLS, s.Port = TLSImplicit, 465 }, true},
		{"no TLS to a remote host", func(s *Settings) { s.TLS = TLSNone }, false},
		{"no TLS to loopback", func(s *Settings) { s.TLS, s.Host = TLSNone, "127.0.0.1" }, true},
		{"bad port", func(s *Settings) { s.Port = 0 }, false},
		{"bad host", func(s *Settings) { s.Host = "smtp.example.jp:25" }, false},
		{"bad from", func(s *Settings) { s.From = "not an address" }, false},
		{"unknown TLS", func(s *Settings) { s.TLS = "maybe" }, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := ok
			tt.mod(&s)
			if err := s.Validate(); (err == nil) != tt.ok {
				t.Fatalf("Validate = %v, want ok %v", err, tt.ok)
			}
		})
	}
}
