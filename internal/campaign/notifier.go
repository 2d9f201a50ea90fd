package campaign

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"tsunagu/internal/mail"
	"tsunagu/internal/sms"
	"tsunagu/internal/store"
)

// ErrNotifyUncertain means an earlier send with the same key was
// interrupted: it may have arrived, so it is not sent again.
var ErrNotifyUncertain = errors.New("notify: an earlier send with this key may have arrived; not resent")

// Notifier sends one-off emails and SMS for other features (a linking
// code, a reminder), each recorded under the caller's idempotency key
// before it is sent: a key already sent is not sent again, a key whose
// send was interrupted is reported (ErrNotifyUncertain), never resent.
type Notifier struct {
	db     *store.DB
	mailer func(ctx context.Context) (Mailer, error)
	sms    func(ctx context.Context) (sms.Sender, error)
	now    func() time.Time
}

// NewNotifier returns a notifier; the sender functions are Config's.
func NewNotifier(db *store.DB, mailer func(ctx context.Context) (Mailer, error), smsSender func(ctx context.Context) (sms.Sender, error), clock func() time.Time) *Notifier {
	if clock == nil {
		clock = time.Now
	}
	return &Notifier{db: db, mailer: mailer, sms: smsSender, now: clock}
}

// SendEmail sends one email once per idempotencyKey.
func (n *Notifier) SendEmail(ctx context.Context, to, subject, text, idempotencyKey string) error {
	if n.mailer == nil {
		return ErrNoMailer
	}
	m, err := n.mailer(ctx)
	if err != nil {
		return errors.Join(ErrNoMailer, err)
	}
	return n.once(ctx, "email", idempotencyKey, func() (string, error, bool) {
		id := mail.MessageID(idempotencyKey, m.From())
		err := m.Send(ctx, mail.Message{To: to, Subject: subject, Text: text, MessageID: id})
		return id, err, errors.Is(err, mail.ErrUncertain)
	})
}

// SendSMS sends one SMS once per idempotencyKey.
func (n *Notifier) SendSMS(ctx context.Context, to, text, idempotencyKey string) error {
	if n.sms == nil {
		return ErrNoSMS
	}
	snd, err := n.sms(ctx)
	if err != nil {
		return errors.Join(ErrNoSMS, err)
	}
	return n.once(ctx, "sms", idempotencyKey, func() (string, error, bool) {
		id, err := snd.Send(ctx, to, text, idempotencyKey)
		return id, err, errors.Is(err, sms.ErrUncertain)
	})
}

func (n *Notifier) once(ctx context.Context, channel, key string, send func() (providerID string, err error, uncertain bool)) error {
	if key == "" || len(key) > 200 {
		return fmt.Errorf("%w: idempotency key must be 1 to 200 characters", ErrInvalid)
	}
	now := n.now().UnixMilli()
	var prior string
	err := n.db.Write(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `SELECT status FROM notifications WHERE idem_key = ?`, key).Scan(&prior)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			_, err = tx.ExecContext(ctx, `INSERT INTO notifications (idem_key, channel, status, created_at) VALUES (?, ?, 'sending', ?)`, key, channel, now)
			return err
		case err != nil:
			return err
		case prior == "failed":
			// A definite failure may be tried again under the same key.
			_, err = tx.ExecContext(ctx, `UPDATE notifications SET status = 'sending', error = '' WHERE idem_key = ?`, key)
			prior = ""
			return err
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("notify: record %s: %w", channel, err)
	}
	switch prior {
	case "sent":
		return nil
	case "sending":
		return ErrNotifyUncertain
	}
	pid, sendErr, uncertain := send()
	status, msg := "sent", ""
	var sentAt any = n.now().UnixMilli()
	if sendErr != nil {
		status, msg, sentAt = "failed", sendErr.Error(), nil
		if uncertain {
			// Left 'sending': a later call with this key reports it.
			return sendErr
		}
	}
	err = n.db.Write(context.WithoutCancel(ctx), func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE notifications SET status = ?, provider_id = ?, error = ?, sent_at = ? WHERE idem_key = ?`,
			status, pid, msg, sentAt, key)
		return err
	})
	return errors.Join(sendErr, err)
}
