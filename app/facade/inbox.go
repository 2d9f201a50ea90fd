package facade

import (
	"context"

	"tsunagu/internal/auth"
	"tsunagu/internal/autoreply"
	"tsunagu/internal/engine"
	"tsunagu/internal/inbox"
)

// The inbox: conversations, messages, replies, assignment, status, notes,
// canned replies, and the auto-reply settings (business hours, keywords).
// What a masked role (agency) sees is the inbox's rule (inbox.Viewer).

// Conversations lists the inbox.
func (s *InboxService) Conversations() ([]inbox.Conversation, error) {
	return call(s.a, auth.PermInboxRead, func(ctx context.Context, st auth.Staff, eng *engine.Engine) ([]inbox.Conversation, error) {
		return eng.Inbox().As(st).Conversations(ctx)
	})
}

// Messages returns one conversation's messages.
func (s *InboxService) Messages(conversationID int64) ([]inbox.Message, error) {
	return call(s.a, auth.PermInboxRead, func(ctx context.Context, st auth.Staff, eng *engine.Engine) ([]inbox.Message, error) {
		return eng.Inbox().As(st).Messages(ctx, conversationID)
	})
}

// MarkRead clears a conversation's unread count, and marks the customer's
// messages read on LINE if the administrator turned that on (LineSettings).
func (s *InboxService) MarkRead(conversationID int64) error {
	return run(s.a, auth.PermInboxReply, func(ctx context.Context, _ auth.Staff, eng *engine.Engine) error {
		return eng.Inbox().MarkRead(ctx, conversationID)
	})
}

// Reply sends a staff reply; the inbox audits it in the transaction that
// stores it.
func (s *InboxService) Reply(conversationID int64, text string) (inbox.Message, error) {
	return call(s.a, auth.PermInboxReply, func(ctx context.Context, st auth.Staff, eng *engine.Engine) (inbox.Message, error) {
		return eng.Inbox().Reply(ctx, conversationID, inbox.ActorOf(st), text)
	})
}

// ReplyTracked sends a staff reply whose links in tracked (the clerk's
// choice; none by default) are tracked for this friend (inbox.ReplyTracked).
func (s *InboxService) ReplyTracked(conversationID int64, text string, tracked []string) (inbox.Message, error) {
	return call(s.a, auth.PermInboxReply, func(ctx context.Context, st auth.Staff, eng *engine.Engine) (inbox.Message, error) {
		return eng.Inbox().ReplyTracked(ctx, conversationID, inbox.ActorOf(st), text, tracked)
	})
}

// ReplyLinksTrackable says whether a reply's links can be tracked here (a
// relay is enrolled, or the sandbox); the composer offers the choice only
// then.
func (s *InboxService) ReplyLinksTrackable() (bool, error) {
	return call(s.a, auth.PermInboxReply, func(ctx context.Context, _ auth.Staff, eng *engine.Engine) (bool, error) {
		return eng.Clicks().Base(ctx) != "", nil
	})
}

// RetryMessage resends a failed message.
func (s *InboxService) RetryMessage(messageID int64) (inbox.Message, error) {
	return call(s.a, auth.PermInboxReply, func(ctx context.Context, st auth.Staff, eng *engine.Engine) (inbox.Message, error) {
		return eng.Inbox().RetryMessage(ctx, messageID, inbox.ActorOf(st))
	})
}

// ConversationPage is one page of the conversation list, filtered and
// searched (inbox.ListQuery; "mine" is the signed-in staff member). A masked
// role may page and filter, but not search.
func (s *InboxService) ConversationPage(q inbox.ListQuery) (inbox.ListPage, error) {
	return call(s.a, auth.PermInboxRead, func(ctx context.Context, st auth.Staff, eng *engine.Engine) (inbox.ListPage, error) {
		return eng.Inbox().As(st).List(ctx, q)
	})
}

// GetConversation returns one conversation (e.g. one opened from a search
// that the loaded pages do not hold).
func (s *InboxService) GetConversation(conversationID int64) (inbox.Conversation, error) {
	return call(s.a, auth.PermInboxRead, func(ctx context.Context, st auth.Staff, eng *engine.Engine) (inbox.Conversation, error) {
		return eng.Inbox().As(st).Conversation(ctx, conversationID)
	})
}

// MessagePage returns the latest messages of a conversation before message
// ID before (0: the newest), oldest first.
func (s *InboxService) MessagePage(conversationID, before int64) (inbox.MessagePage, error) {
	return call(s.a, auth.PermInboxRead, func(ctx context.Context, st auth.Staff, eng *engine.Engine) (inbox.MessagePage, error) {
		return eng.Inbox().As(st).RecentMessages(ctx, conversationID, before)
	})
}

// Assignees lists who a conversation can be assigned to.
func (s *InboxService) Assignees() ([]inbox.Assignee, error) {
	return call(s.a, auth.PermInboxRead, func(ctx context.Context, _ auth.Staff, eng *engine.Engine) ([]inbox.Assignee, error) {
		return eng.Inbox().Assignees(ctx)
	})
}

// AssignConversation assigns a conversation to a staff member (0: nobody).
func (s *InboxService) AssignConversation(conversationID, staffID int64) error {
	return run(s.a, auth.PermInboxReply, func(ctx context.Context, st auth.Staff, eng *engine.Engine) error {
		return eng.Inbox().Assign(ctx, inbox.StaffOf(st), conversationID, staffID)
	})
}

// SetConversationStatus sets open, pending or closed.
func (s *InboxService) SetConversationStatus(conversationID int64, status string) error {
	return run(s.a, auth.PermInboxReply, func(ctx context.Context, st auth.Staff, eng *engine.Engine) error {
		return eng.Inbox().SetStatus(ctx, inbox.StaffOf(st), conversationID, status)
	})
}

// ConversationNotes returns the internal notes of a conversation.
func (s *InboxService) ConversationNotes(conversationID int64) ([]inbox.Note, error) {
	return call(s.a, auth.PermInboxRead, func(ctx context.Context, st auth.Staff, eng *engine.Engine) ([]inbox.Note, error) {
		return eng.Inbox().As(st).Notes(ctx, conversationID)
	})
}

// AddNote adds an internal note (never sent to the customer).
func (s *InboxService) AddNote(conversationID int64, body string) (inbox.Note, error) {
	return call(s.a, auth.PermInboxReply, func(ctx context.Context, st auth.Staff, eng *engine.Engine) (inbox.Note, error) {
		return eng.Inbox().AddNote(ctx, inbox.StaffOf(st), conversationID, body)
	})
}

// DeleteNote deletes one of the signed-in staff member's own notes.
func (s *InboxService) DeleteNote(noteID int64) error {
	return run(s.a, auth.PermInboxReply, func(ctx context.Context, st auth.Staff, eng *engine.Engine) error {
		return eng.Inbox().DeleteNote(ctx, inbox.StaffOf(st), noteID)
	})
}

// CannedReplies lists the canned replies for the composer.
func (s *InboxService) CannedReplies() ([]inbox.CannedReply, error) {
	return call(s.a, auth.PermInboxReply, func(ctx context.Context, _ auth.Staff, eng *engine.Engine) ([]inbox.CannedReply, error) {
		return eng.Inbox().CannedReplies(ctx)
	})
}

// SearchCannedReplies lists the canned replies whose title or text holds
// every word of query (all for a blank one), normalised as every search is.
func (s *InboxService) SearchCannedReplies(query string) ([]inbox.CannedReply, error) {
	return call(s.a, auth.PermInboxReply, func(ctx context.Context, _ auth.Staff, eng *engine.Engine) ([]inbox.CannedReply, error) {
		return eng.Inbox().SearchCannedReplies(ctx, query)
	})
}

// ExpandCannedReply returns a canned reply's text for a conversation with
// {氏名} and {担当者} (the signed-in staff member) filled in.
func (s *InboxService) ExpandCannedReply(conversationID, cannedID int64) (string, error) {
	return call(s.a, auth.PermInboxReply, func(ctx context.Context, st auth.Staff, eng *engine.Engine) (string, error) {
		return eng.Inbox().ExpandCannedReply(ctx, conversationID, cannedID, st.DisplayName)
	})
}

// SaveCannedReply creates or changes a canned reply (administrators).
func (s *InboxService) SaveCannedReply(c inbox.CannedReply) (inbox.CannedReply, error) {
	return call(s.a, auth.PermSettings, func(ctx context.Context, st auth.Staff, eng *engine.Engine) (inbox.CannedReply, error) {
		return eng.Inbox().SaveCannedReply(ctx, st.Actor(), c)
	})
}

// DeleteCannedReply deletes a canned reply (administrators).
func (s *InboxService) DeleteCannedReply(id int64) error {
	return run(s.a, auth.PermSettings, func(ctx context.Context, st auth.Staff, eng *engine.Engine) error {
		return eng.Inbox().DeleteCannedReply(ctx, st.Actor(), id)
	})
}

// ReplyImage sends a JPEG or PNG image, given as a data URL or bare base64.
func (s *InboxService) ReplyImage(conversationID int64, data string) (inbox.Message, error) {
	return call(s.a, auth.PermInboxReply, func(ctx context.Context, st auth.Staff, eng *engine.Engine) (inbox.Message, error) {
		raw, err := inbox.DecodeImage(data)
		if err != nil {
			return inbox.Message{}, err
		}
		return eng.Inbox().ReplyImage(ctx, conversationID, inbox.ActorOf(st), raw)
	})
}

// --- auto-replies (administrators) ---

// AutoReplyRules lists the keyword auto-replies.
func (s *InboxService) AutoReplyRules() ([]autoreply.Rule, error) {
	return call(s.a, auth.PermSettings, func(ctx context.Context, _ auth.Staff, eng *engine.Engine) ([]autoreply.Rule, error) {
		return eng.AutoReply().Rules(ctx)
	})
}

// SaveAutoReplyRule creates or changes a keyword auto-reply.
func (s *InboxService) SaveAutoReplyRule(r autoreply.Rule) (autoreply.Rule, error) {
	return call(s.a, auth.PermSettings, func(ctx context.Context, st auth.Staff, eng *engine.Engine) (autoreply.Rule, error) {
		return eng.AutoReply().SaveRule(ctx, st.Actor(), r)
	})
}

// DeleteAutoReplyRule deletes a keyword auto-reply.
func (s *InboxService) DeleteAutoReplyRule(id int64) error {
	return run(s.a, auth.PermSettings, func(ctx context.Context, st auth.Staff, eng *engine.Engine) error {
		return eng.AutoReply().DeleteRule(ctx, st.Actor(), id)
	})
}

// BusinessHours returns the business hours and away reply.
func (s *InboxService) BusinessHours() (autoreply.Settings, error) {
	return call(s.a, auth.PermSettings, func(ctx context.Context, _ auth.Staff, eng *engine.Engine) (autoreply.Settings, error) {
		return eng.AutoReply().Settings(ctx)
	})
}

// SaveBusinessHours stores the business hours and away reply.
func (s *InboxService) SaveBusinessHours(set autoreply.Settings) (autoreply.Settings, error) {
	return call(s.a, auth.PermSettings, func(ctx context.Context, st auth.Staff, eng *engine.Engine) (autoreply.Settings, error) {
		return eng.AutoReply().SaveSettings(ctx, st.Actor(), set)
	})
}
