package facade

// ErasureService: erasing a customer or a conversation, and retention.

import (
	"errors"
	"strconv"
	"tsunagu/internal/auth"
	"tsunagu/internal/customer"
	"tsunagu/internal/erasure"
	"tsunagu/internal/msgcode"
)

// EraseConversation deletes a LINE user's conversation, messages and media
// on their request (APPI), leaving only an audit entry with counts.
func (a *App) EraseConversation(conversationID int64) error {
	st, _, eng, err := a.requireService(auth.PermErase)
	if err != nil {
		return err
	}
	// The customer feature's hooks unlink the LINE user from their
	// customer in the same transaction.
	_, err = eng.Erasure().EraseConversation(a.context(), st.Actor(), conversationID)
	if errors.Is(err, erasure.ErrNotFound) {
		return msgcode.New(msgcode.NotFound)
	}
	return a.userError(err)
}

// EraseCustomer deletes a customer on their request (APPI): their record,
// contact points, consents, products, attributes, tags and LINE link, and
// the linked LINE user's conversation, messages and media, in one
// transaction with its audit entry (data.erase, customer ID and counts).
func (a *App) EraseCustomer(id int64) error {
	st, _, eng, err := a.requireService(auth.PermErase)
	if err != nil {
		return err
	}
	_, err = eng.Erasure().EraseCustomer(a.context(), st.Actor(), id)
	if errors.Is(err, customer.ErrNotFound) {
		return msgcode.New(msgcode.NotFound)
	}
	return a.userError(err)
}

// SetRetentionDays sets how long conversations are kept (0: forever).
func (a *App) SetRetentionDays(days int) error {
	st, _, eng, err := a.requireService(auth.PermSettings)
	if err != nil {
		return err
	}
	if days < 0 || days > 36500 {
		return msgcode.New(msgcode.InvalidInput)
	}
	return a.userError(auth.SetSetting(a.context(), eng.DB(), st.Actor(), erasure.SettingRetentionDays, strconv.Itoa(days)))
}
