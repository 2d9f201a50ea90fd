package facade

import (
	"encoding/base64"
	"strings"
	"tsunagu/internal/msgcode"

	"tsunagu/internal/auth"
	"tsunagu/internal/autoreply"
	"tsunagu/internal/inbox"
)

// The inbox: conversations, messages, replies, assignment, status, notes,
// canned replies, and the auto-reply settings (business hours, keywords).

func inboxStaff(st auth.Staff) inbox.Staff {
	return inbox.Staff{ID: st.ID, Actor: st.Actor(), Name: st.DisplayName}
}

// Conversations lists the inbox.
func (a *App) Conversations() ([]inbox.Conversation, error) {
	st, err := a.require(auth.PermInboxRead)
	if err != nil {
		return nil, err
	}
	ib, err := a.inbox()
	if err != nil {
		return nil, err
	}
	list, err := ib.Conversations(a.ctx)
	if st.Role.Masked() {
		list = maskConversations(list)
	}
	return list, a.userError(err)
}

// Messages returns one conversation's messages.
func (a *App) Messages(conversationID int64) ([]inbox.Message, error) {
	st, err := a.require(auth.PermInboxRead)
	if err != nil {
		return nil, err
	}
	ib, err := a.inbox()
	if err != nil {
		return nil, err
	}
	list, err := ib.Messages(a.ctx, conversationID)
	if st.Role.Masked() {
		list = maskMessages(list)
	}
	return list, a.userError(err)
}

// MarkRead clears a conversation's unread count, and marks the customer's
// messages read on LINE if the administrator turned that on (LineSettings).
func (a *App) MarkRead(conversationID int64) error {
	if _, err := a.require(auth.PermInboxReply); err != nil {
		return err
	}
	ib, err := a.inbox()
	if err != nil {
		return err
	}
	return a.userError(ib.MarkRead(a.ctx, conversationID))
}

// Reply sends a staff reply.
func (a *App) Reply(conversationID int64, text string) (inbox.Message, error) {
	st, err := a.require(auth.PermInboxReply)
	if err != nil {
		return inbox.Message{}, err
	}
	ib, err := a.inbox()
	if err != nil {
		return inbox.Message{}, err
	}
	// The inbox audits the send in the transaction that stores it.
	m, err := ib.Reply(a.ctx, conversationID, inbox.Actor{Audit: st.Actor(), Name: st.DisplayName}, text)
	return m, a.userError(err)
}

// RetryMessage resends a failed message.
func (a *App) RetryMessage(messageID int64) (inbox.Message, error) {
	st, err := a.require(auth.PermInboxReply)
	if err != nil {
		return inbox.Message{}, err
	}
	ib, err := a.inbox()
	if err != nil {
		return inbox.Message{}, err
	}
	m, err := ib.RetryMessage(a.ctx, messageID, inbox.Actor{Audit: st.Actor(), Name: st.DisplayName})
	return m, a.userError(err)
}

// ConversationPage is one page of the conversation list, filtered and
// searched (inbox.ListQuery; "mine" is the signed-in staff member). A masked
// role (agency) may page and filter, but not search: which conversations
// contain a word is itself what they may not see.
func (a *App) ConversationPage(q inbox.ListQuery) (inbox.ListPage, error) {
	st, err := a.require(auth.PermInboxRead)
	if err != nil {
		return inbox.ListPage{}, err
	}
	if st.Role.Masked() && strings.TrimSpace(q.Search) != "" {
		a.denyMasked(st, "inbox_search")
		return inbox.ListPage{}, msgcode.New(msgcode.ContentMasked)
	}
	ib, err := a.inbox()
	if err != nil {
		return inbox.ListPage{}, err
	}
	q.Me = st.ID
	page, err := ib.List(a.ctx, q)
	if st.Role.Masked() {
		page.Conversations = maskConversations(page.Conversations)
	}
	return page, a.userError(err)
}

// GetConversation returns one conversation (e.g. one opened from a search
// that the loaded pages do not hold).
func (a *App) GetConversation(conversationID int64) (inbox.Conversation, error) {
	st, err := a.require(auth.PermInboxRead)
	if err != nil {
		return inbox.Conversation{}, err
	}
	ib, err := a.inbox()
	if err != nil {
		return inbox.Conversation{}, err
	}
	c, err := ib.Conversation(a.ctx, conversationID)
	if err != nil {
		return inbox.Conversation{}, a.userError(err)
	}
	if st.Role.Masked() {
		c = maskConversations([]inbox.Conversation{c})[0]
	}
	return c, nil
}

// MessagePage returns the latest messages of a conversation before message
// ID before (0: the newest), oldest first.
func (a *App) MessagePage(conversationID, before int64) (inbox.MessagePage, error) {
	st, err := a.require(auth.PermInboxRead)
	if err != nil {
		return inbox.MessagePage{}, err
	}
	ib, err := a.inbox()
	if err != nil {
		return inbox.MessagePage{}, err
	}
	page, err := ib.RecentMessages(a.ctx, conversationID, before, inbox.DefaultMessagePage)
	if st.Role.Masked() {
		page.Messages = maskMessages(page.Messages)
	}
	return page, a.userError(err)
}

// Assignees lists who a conversation can be assigned to.
func (a *App) Assignees() ([]inbox.Assignee, error) {
	if _, err := a.require(auth.PermInboxRead); err != nil {
		return nil, err
	}
	ib, err := a.inbox()
	if err != nil {
		return nil, err
	}
	list, err := ib.Assignees(a.ctx)
	return list, a.userError(err)
}

// AssignConversation assigns a conversation to a staff member (0: nobody).
func (a *App) AssignConversation(conversationID, staffID int64) error {
	st, err := a.require(auth.PermInboxReply)
	if err != nil {
		return err
	}
	ib, err := a.inbox()
	if err != nil {
		return err
	}
	return a.userError(ib.Assign(a.ctx, inboxStaff(st), conversationID, staffID))
}

// SetConversationStatus sets open, pending or closed.
func (a *App) SetConversationStatus(conversationID int64, status string) error {
	st, err := a.require(auth.PermInboxReply)
	if err != nil {
		return err
	}
	ib, err := a.inbox()
	if err != nil {
		return err
	}
	return a.userError(ib.SetStatus(a.ctx, inboxStaff(st), conversationID, status))
}

// ConversationNotes returns the internal notes of a conversation.
func (a *App) ConversationNotes(conversationID int64) ([]inbox.Note, error) {
	st, err := a.require(auth.PermInboxRead)
	if err != nil {
		return nil, err
	}
	ib, err := a.inbox()
	if err != nil {
		return nil, err
	}
	list, err := ib.Notes(a.ctx, conversationID)
	if st.Role.Masked() {
		for i := range list {
			list[i].Body = MaskBody(list[i].Body)
		}
	}
	return list, a.userError(err)
}

// AddNote adds an internal note (never sent to the customer).
func (a *App) AddNote(conversationID int64, body string) (inbox.Note, error) {
	st, err := a.require(auth.PermInboxReply)
	if err != nil {
		return inbox.Note{}, err
	}
	ib, err := a.inbox()
	if err != nil {
		return inbox.Note{}, err
	}
	n, err := ib.AddNote(a.ctx, inboxStaff(st), conversationID, body)
	return n, a.userError(err)
}

// DeleteNote deletes one of the signed-in staff member's own notes.
func (a *App) DeleteNote(noteID int64) error {
	st, err := a.require(auth.PermInboxReply)
	if err != nil {
		return err
	}
	ib, err := a.inbox()
	if err != nil {
		return err
	}
	return a.userError(ib.DeleteNote(a.ctx, inboxStaff(st), noteID))
}

// CannedReplies lists the canned replies for the composer.
func (a *App) CannedReplies() ([]inbox.CannedReply, error) {
	if _, err := a.require(auth.PermInboxReply); err != nil {
		return nil, err
	}
	ib, err := a.inbox()
	if err != nil {
		return nil, err
	}
	list, err := ib.CannedReplies(a.ctx)
	return list, a.userError(err)
}

// ExpandCannedReply returns a canned reply's text for a conversation with
// {氏名} and {担当者} (the signed-in staff member) filled in.
func (a *App) ExpandCannedReply(conversationID, cannedID int64) (string, error) {
	st, err := a.require(auth.PermInboxReply)
	if err != nil {
		return "", err
	}
	ib, err := a.inbox()
	if err != nil {
		return "", err
	}
	text, err := ib.ExpandCannedReply(a.ctx, conversationID, cannedID, st.DisplayName)
	return text, a.userError(err)
}

// SaveCannedReply creates or changes a canned reply (administrators).
func (a *App) SaveCannedReply(c inbox.CannedReply) (inbox.CannedReply, error) {
	st, err := a.require(auth.PermSettings)
	if err != nil {
		return inbox.CannedReply{}, err
	}
	ib, err := a.inbox()
	if err != nil {
		return inbox.CannedReply{}, err
	}
	c, err = ib.SaveCannedReply(a.ctx, st.Actor(), c)
	return c, a.userError(err)
}

// DeleteCannedReply deletes a canned reply (administrators).
func (a *App) DeleteCannedReply(id int64) error {
	st, err := a.require(auth.PermSettings)
	if err != nil {
		return err
	}
	ib, err := a.inbox()
	if err != nil {
		return err
	}
	return a.userError(ib.DeleteCannedReply(a.ctx, st.Actor(), id))
}

// ReplyImage sends a JPEG or PNG image, given as a data URL or bare base64.
func (a *App) ReplyImage(conversationID int64, data string) (inbox.Message, error) {
	st, err := a.require(auth.PermInboxReply)
	if err != nil {
		return inbox.Message{}, err
	}
	ib, err := a.inbox()
	if err != nil {
		return inbox.Message{}, err
	}
	if i := strings.Index(data, ";base64,"); strings.HasPrefix(data, "data:") && i > 0 {
		data = data[i+len(";base64,"):]
	}
	raw, err := base64.StdEncoding.DecodeString(data)
	if err != nil || len(raw) == 0 {
		return inbox.Message{}, msgcode.New(msgcode.ImageInvalid)
	}
	m, err := ib.ReplyImage(a.ctx, conversationID, inbox.Actor{Audit: st.Actor(), Name: st.DisplayName}, raw)
	return m, a.userError(err)
}

// --- auto-replies (administrators) ---

func (a *App) autoReply() (*autoreply.Service, error) {
	a.mu.RLock()
	defer a.mu.RUnlock()
	if a.eng == nil {
		return nil, msgcode.New(msgcode.NotStarted)
	}
	return a.eng.AutoReply(), nil
}

// AutoReplyRules lists the keyword auto-replies.
func (a *App) AutoReplyRules() ([]autoreply.Rule, error) {
	if _, err := a.require(auth.PermSettings); err != nil {
		return nil, err
	}
	svc, err := a.autoReply()
	if err != nil {
		return nil, err
	}
	list, err := svc.Rules(a.ctx)
	return list, a.userError(err)
}

// SaveAutoReplyRule creates or changes a keyword auto-reply.
func (a *App) SaveAutoReplyRule(r autoreply.Rule) (autoreply.Rule, error) {
	st, err := a.require(auth.PermSettings)
	if err != nil {
		return autoreply.Rule{}, err
	}
	svc, err := a.autoReply()
	if err != nil {
		return autoreply.Rule{}, err
	}
	r, err = svc.SaveRule(a.ctx, st.Actor(), r)
	return r, a.userError(err)
}

// DeleteAutoReplyRule deletes a keyword auto-reply.
func (a *App) DeleteAutoReplyRule(id int64) error {
	st, err := a.require(auth.PermSettings)
	if err != nil {
		return err
	}
	svc, err := a.autoReply()
	if err != nil {
		return err
	}
	return a.userError(svc.DeleteRule(a.ctx, st.Actor(), id))
}

// BusinessHours returns the business hours and away reply.
func (a *App) BusinessHours() (autoreply.Settings, error) {
	if _, err := a.require(auth.PermSettings); err != nil {
		return autoreply.Settings{}, err
	}
	svc, err := a.autoReply()
	if err != nil {
		return autoreply.Settings{}, err
	}
	s, err := svc.Settings(a.ctx)
	return s, a.userError(err)
}

// SaveBusinessHours stores the business hours and away reply.
func (a *App) SaveBusinessHours(s autoreply.Settings) (autoreply.Settings, error) {
	st, err := a.require(auth.PermSettings)
	if err != nil {
		return autoreply.Settings{}, err
	}
	svc, err := a.autoReply()
	if err != nil {
		return autoreply.Settings{}, err
	}
	s, err = svc.SaveSettings(a.ctx, st.Actor(), s)
	return s, a.userError(err)
}
