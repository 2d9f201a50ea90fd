package facade

// ErasureService: erasing a customer or a conversation, and retention.

import (
	"context"

	"tsunagu/internal/auth"
	"tsunagu/internal/engine"
)

// EraseConversation deletes a LINE user's conversation, messages and media
// on their request (APPI), leaving only an audit entry with counts. The
// customer feature's hooks unlink the LINE user from their customer in the
// same transaction.
func (s *ErasureService) EraseConversation(conversationID int64) error {
	return run(s.a, auth.PermErase, func(ctx context.Context, st auth.Staff, eng *engine.Engine) error {
		_, err := eng.Erasure().EraseConversation(ctx, st.Actor(), conversationID)
		return err
	})
}

// EraseCustomer deletes a customer on their request (APPI): their record,
// contact points, consents, products, attributes, tags and LINE link, and
// the linked LINE user's conversation, messages and media, in one
// transaction with its audit entry (data.erase, customer ID and counts).
func (s *ErasureService) EraseCustomer(id int64) error {
	return run(s.a, auth.PermErase, func(ctx context.Context, st auth.Staff, eng *engine.Engine) error {
		_, err := eng.Erasure().EraseCustomer(ctx, st.Actor(), id)
		return err
	})
}

// SetRetentionDays sets how long conversations are kept (0: forever).
func (s *ErasureService) SetRetentionDays(days int) error {
	return run(s.a, auth.PermSettings, func(ctx context.Context, st auth.Staff, eng *engine.Engine) error {
		return eng.Erasure().SetRetentionDays(ctx, st.Actor(), days)
	})
}
