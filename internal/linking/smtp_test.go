package linking_test

import (
	"context"
	"database/sql"
	"encoding/base64"
	"errors"
	"io"
	"mime"
	netmail "net/mail"
	"strings"
	"testing"

	"tsunagu/internal/linking"
	"tsunagu/internal/mail"
	"tsunagu/internal/mail/mailtest"
)

// smtpNotifier sends link codes through the real SMTP client, with the
// Message-ID derived from the stored idempotency key (as the app's notifier
// does), so a resend is recognisable as the same message.
type smtpNotifier struct{ c *mail.Client }

func (n smtpNotifier) SendEmail(ctx context.Context, to, subject, text, key string) error {
	return n.c.Send(ctx, mail.Message{To: to, Subject: subject, Text: text, MessageID: mail.MessageID(key, n.c.From())})
}

func (smtpNotifier) SendSMS(context.Context, string, string, string) error {
	return errors.New("no SMS in this test")
}

// TestCodeByEmailOverSMTP: a code sent by email reaches a real SMTP server
// on loopback, carrying the code and the chat link, under the Message-ID of
// the key stored before the send; the code from the email links.
func TestCodeByEmailOverSMTP(t *testing.T) {
	srv, err := mailtest.Start(mailtest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	host, port := srv.Addr()
	c, err := mail.New(mail.Settings{Host: host, Port: port, TLS: mail.TLSStartTLS, User: srv.User, From: "info@shinkin.example.jp", FromName: "つなぐ信用金庫"},
		srv.Pass, mail.Options{TLSConfig: srv.TLSConfig()})
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, smtpNotifier{c})
	cust := e.customer("6001", "加藤 陽子", "")
	if err := e.db.Write(e.ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(e.ctx, `INSERT INTO contact_points (customer_id, kind, value, source, created_at) VALUES (?, 'email', 'yoko@example.jp', 'manual', 0)`, cust)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	e.codes = []string{"HJKL-MN23"}
	out, err := e.svc.Issue(e.ctx, staff, linking.IssueRequest{CustomerID: cust, Delivery: linking.DeliveryEmail, Destination: "yoko@example.jp"})
	if err != nil || out.SendStatus != "sent" {
		t.Fatalf("issue: %+v %v", out, err)
	}
	msgs := srv.Messages()
	if len(msgs) != 1 || len(msgs[0].To) != 1 || msgs[0].To[0] != "yoko@example.jp" {
		t.Fatalf("messages = %+v", msgs)
	}
	var key string
	if err := e.db.Reader().QueryRow(`SELECT idempotency_key FROM link_code_deliveries`).Scan(&key); err != nil {
		t.Fatal(err)
	}
	if msgs[0].MessageID != mail.MessageID(key, "info@shinkin.example.jp") {
		t.Fatalf("Message-ID %q is not the stored key's", msgs[0].MessageID)
	}
	m, err := netmail.ReadMessage(strings.NewReader(string(msgs[0].Body)))
	if err != nil {
		t.Fatal(err)
	}
	subject, _ := new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject"))
	raw, _ := io.ReadAll(m.Body)
	body, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(string(raw)), ""))
	if err != nil {
		body = raw
	}
	text := string(body)
	if subject != "LINE連携コードのお知らせ" || !strings.Contains(text, "加藤 陽子 様") || !strings.Contains(text, "HJKL-MN23") ||
		!strings.Contains(text, "https://line.me/R/oaMessage/"+e.sim.BasicID()+"/?") {
		t.Fatalf("email %q:\n%s", subject, text)
	}
	user := e.friend("ようこ")
	e.send(user, "hjkl-mn23")
	e.expectReplies(user, linking.ReplyLinked)
}
