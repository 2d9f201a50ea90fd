package facade

// Working together (issue 18): who else has a conversation open, and
// whether a colleague answered it since the clerk last looked. The rules
// are internal/presence's and inbox.AnsweredSince's.

import (
	"context"
	"crypto/rand"
	"encoding/hex"

	"tsunagu/internal/auth"
	"tsunagu/internal/engine"
	"tsunagu/internal/inbox"
	"tsunagu/internal/presence"
)

// EventPresence is emitted when the people in some conversations changed.
const EventPresence = "presence:changed"

// PresenceEvent names the conversations whose people changed.
type PresenceEvent struct {
	ConversationIDs []int64 `json:"conversationIds"`
}

// ViewConversation says this client has the conversation open (0: none),
// and returns the other staff members who have it open. The UI calls it
// when a conversation opens, every 15 s while it stays open, and on
// presence:changed for it.
func (s *InboxService) ViewConversation(conversationID int64) ([]presence.Person, error) {
	c := s.a
	return call(c, auth.PermInboxRead, func(ctx context.Context, st auth.Staff, eng *engine.Engine) ([]presence.Person, error) {
		if conversationID != 0 {
			// Only a conversation that exists (and the staff member may see).
			if _, err := eng.Inbox().Conversation(ctx, conversationID); err != nil {
				return nil, err
			}
		}
		c.announce(c.presence.Touch(c.id, presence.Person{Login: st.Login, Name: st.DisplayName, Seat: c.seat}, conversationID))
		if conversationID == 0 {
			return []presence.Person{}, nil
		}
		return c.presence.Others(c.id, conversationID), nil
	})
}

// AnsweredSince lists the replies colleagues sent in the conversation after
// message seen (the newest the clerk had on screen when they began to
// type): the composer asks before sending over them.
func (s *InboxService) AnsweredSince(conversationID, seen int64) ([]inbox.Answer, error) {
	return call(s.a, auth.PermInboxReply, func(ctx context.Context, st auth.Staff, eng *engine.Engine) ([]inbox.Answer, error) {
		return eng.Inbox().AnsweredSince(ctx, conversationID, seen, st.Actor())
	})
}

// leave takes the client out of presence (signed out, locked).
func (c *Client) leave() { c.announce(c.presence.Leave(c.id)) }

func (a *App) announce(changed []int64) {
	if len(changed) > 0 && a.emit != nil {
		a.emit.Emit(EventPresence, PresenceEvent{ConversationIDs: changed})
	}
}

func randomID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
