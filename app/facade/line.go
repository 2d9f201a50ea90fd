package facade

import (
	"context"

	"tsunagu/internal/auth"
	"tsunagu/internal/engine"
	"tsunagu/internal/msgcode"
)

// LineQuota is the channel's monthly message allowance and use.
type LineQuota struct {
	Limited bool  `json:"limited"` // false: no monthly limit
	Limit   int64 `json:"limit"`
	Used    int64 `json:"used"`
}

// Quota asks LINE (the simulator in sandbox mode) for this month's message
// limit and consumption, so that staff see what a campaign may still send.
func (s *InboxService) Quota() (LineQuota, error) {
	return call(s.a, auth.PermInboxRead, func(ctx context.Context, _ auth.Staff, eng *engine.Engine) (LineQuota, error) {
		cl := eng.Line()
		if cl == nil {
			return LineQuota{}, msgcode.New(msgcode.NotStarted)
		}
		q, err := cl.Quota(ctx)
		if err != nil {
			return LineQuota{}, err
		}
		used, err := cl.QuotaConsumption(ctx)
		return LineQuota{Limited: q.Limited, Limit: q.Limit, Used: used}, err
	})
}

// LineSettings are the administrator's choices about how the official
// account behaves towards customers (channel.go reads and sets them).
type LineSettings struct {
	// MarkReadOnLine: opening a conversation marks the customer's messages
	// read on LINE (既読をつける). Off by default.
	MarkReadOnLine bool `json:"markReadOnLine"`
}

// MessageContent returns a customer's image, video, audio or file as a data
// URL, from the encrypted DB. Masked roles (agency) are refused, audited:
// media cannot be masked after the query the way text is, so they see only
// that a message has content (hasContent).
func (s *InboxService) MessageContent(messageID int64) (string, error) {
	return call(s.a, auth.PermInboxRead, func(ctx context.Context, st auth.Staff, eng *engine.Engine) (string, error) {
		return eng.Inbox().As(st).ContentURL(ctx, messageID)
	})
}

// SaveMessageContent asks where to save a customer's photo (or file),
// suggesting a name by kind and time, and writes it there; audited as a
// content export (conversation.content_export). Masked roles are refused,
// audited. The saved path, or "" when the dialog was cancelled.
func (s *InboxService) SaveMessageContent(messageID int64) (string, error) {
	return call(s.a, auth.PermInboxRead, func(ctx context.Context, st auth.Staff, eng *engine.Engine) (string, error) {
		v := eng.Inbox().As(st)
		name, err := v.ContentFile(ctx, messageID)
		if err != nil {
			return "", err
		}
		path, save, err := s.a.saveTo(ctx, "", name)
		if err != nil || path == "" {
			return "", err
		}
		if err := v.ExportContentTo(ctx, messageID, save); err != nil {
			return "", err
		}
		return path, nil
	})
}
