package inbox

import (
	"context"
	"database/sql"
	"encoding/base64"
	"errors"
	"strings"

	"tsunagu/internal/audit"
	"tsunagu/internal/auth"
	"tsunagu/internal/mask"
)

// The inbox as one staff member sees it (Inbox.As). A masked role
// (auth.Role.Masked: the agency) sees that conversations and messages exist,
// how many, of which kind, when and in which state, but not who or what:
// names, LINE IDs, pictures, previews, bodies and notes are masked in every
// result; searching and customer media are refused outright (audited), since
// which conversations contain a word, or a photo of a passbook, cannot be
// masked after the query.

// ErrMasked is a masked role asking for what it may not be shown at all.
var ErrMasked = errors.New("inbox: not shown to a masked role")

// Masked refusals, in the access.denied entry's "masked" detail.
const (
	DeniedSearch  = "inbox_search"
	DeniedContent = "message_content"
)

// Viewer is the inbox as one staff member sees it.
type Viewer struct {
	ib *Inbox
	st auth.Staff
}

// As returns the inbox as st sees it.
func (ib *Inbox) As(st auth.Staff) Viewer { return Viewer{ib: ib, st: st} }

// ActorOf is the staff member as the author of a send.
func ActorOf(st auth.Staff) Actor { return Actor{Audit: st.Actor(), Name: st.DisplayName} }

// StaffOf is the staff member as the author of assignments, statuses and
// notes.
func StaffOf(st auth.Staff) Staff { return Staff{ID: st.ID, Actor: st.Actor(), Name: st.DisplayName} }

// Conversations lists the inbox.
func (v Viewer) Conversations(ctx context.Context) ([]Conversation, error) {
	list, err := v.ib.Conversations(ctx)
	if err != nil {
		return nil, err
	}
	return v.conversations(list), nil
}

// List is one page of the conversation list; Assignee "mine" is the
// staff member. A masked role may page and filter, not search.
func (v Viewer) List(ctx context.Context, q ListQuery) (ListPage, error) {
	if v.st.Role.Masked() && strings.TrimSpace(q.Search) != "" {
		return ListPage{}, v.deny(ctx, DeniedSearch)
	}
	q.Me = v.st.ID
	page, err := v.ib.List(ctx, q)
	if err != nil {
		return ListPage{}, err
	}
	page.Conversations = v.conversations(page.Conversations)
	return page, nil
}

// Conversation returns one conversation.
func (v Viewer) Conversation(ctx context.Context, id int64) (Conversation, error) {
	c, err := v.ib.Conversation(ctx, id)
	if err != nil {
		return Conversation{}, err
	}
	return v.conversations([]Conversation{c})[0], nil
}

// Messages returns one conversation's messages.
func (v Viewer) Messages(ctx context.Context, conversationID int64) ([]Message, error) {
	list, err := v.ib.Messages(ctx, conversationID)
	if err != nil {
		return nil, err
	}
	return v.messages(list), nil
}

// RecentMessages returns the latest DefaultMessagePage messages before
// message ID before (0: the newest), oldest first.
func (v Viewer) RecentMessages(ctx context.Context, conversationID, before int64) (MessagePage, error) {
	page, err := v.ib.RecentMessages(ctx, conversationID, before, DefaultMessagePage)
	if err != nil {
		return MessagePage{}, err
	}
	page.Messages = v.messages(page.Messages)
	return page, nil
}

// Notes returns a conversation's internal notes.
func (v Viewer) Notes(ctx context.Context, conversationID int64) ([]Note, error) {
	list, err := v.ib.Notes(ctx, conversationID)
	if err != nil {
		return nil, err
	}
	if v.st.Role.Masked() {
		for i := range list {
			list[i].Body = mask.Body(list[i].Body)
		}
	}
	return list, nil
}

// ContentURL returns a customer's image, video, audio or file as a data
// URL. A masked role is refused before any lookup.
func (v Viewer) ContentURL(ctx context.Context, messageID int64) (string, error) {
	if v.st.Role.Masked() {
		return "", v.deny(ctx, DeniedContent)
	}
	data, typ, err := v.ib.MessageContent(ctx, messageID)
	if err != nil {
		return "", err
	}
	if typ == "" {
		typ = "application/octet-stream"
	}
	return "data:" + typ + ";base64," + base64.StdEncoding.EncodeToString(data), nil
}

// FetchContent asks for a message's content to be fetched from LINE
// again. A masked role may not see customer media, so it may not ask for it.
func (v Viewer) FetchContent(ctx context.Context, messageID int64) error {
	if v.st.Role.Masked() {
		return v.deny(ctx, DeniedContent)
	}
	return v.ib.FetchContent(ctx, messageID)
}

// DecodeImage reads an image staff send, given as a data URL or bare
// base64; ErrBadImage if it is neither or empty (ReplyImage checks the
// format).
func DecodeImage(data string) ([]byte, error) {
	if i := strings.Index(data, ";base64,"); strings.HasPrefix(data, "data:") && i > 0 {
		data = data[i+len(";base64,"):]
	}
	raw, err := base64.StdEncoding.DecodeString(data)
	if err != nil || len(raw) == 0 {
		return nil, ErrBadImage
	}
	return raw, nil
}

// deny logs and audits a refused masked call like a refused permission
// (access.denied), naming the role and what was asked, never the customer,
// and returns ErrMasked. The refusal stands if the entry cannot be written.
func (v Viewer) deny(ctx context.Context, what string) error {
	v.ib.log.Warn("masked role refused", "role", v.st.Role, "what", what)
	if err := v.ib.db.Write(ctx, func(tx *sql.Tx) error {
		_, err := audit.Record(ctx, tx, audit.Entry{At: v.ib.now().UnixMilli(), Actor: v.st.Actor(), Action: audit.ActionDenied,
			Detail: map[string]string{"masked": what, "role": string(v.st.Role)}})
		return err
	}); err != nil {
		v.ib.log.Error("audit masked refusal", "err", err)
	}
	return ErrMasked
}

func (v Viewer) conversations(list []Conversation) []Conversation {
	if !v.st.Role.Masked() {
		return list
	}
	out := make([]Conversation, len(list))
	for i, c := range list {
		c.DisplayName = mask.Name(c.DisplayName)
		c.LineUserID = mask.Name(c.LineUserID)
		c.PictureURL = ""
		c.LastPreview = mask.Body(c.LastPreview)
		c.CustomerName = mask.Name(c.CustomerName)
		c.Snippet = mask.Body(c.Snippet)
		out[i] = c
	}
	return out
}

func (v Viewer) messages(list []Message) []Message {
	out := make([]Message, len(list))
	for i, m := range list {
		if v.st.Role.Masked() {
			m.Body = mask.Body(m.Body)
			m.SentBy = mask.Name(m.SentBy)
		} else if m.Kind == "sticker" && !m.Unsent {
			m.StickerURL = v.ib.stickerURL(m.Body)
		}
		out[i] = m
	}
	return out
}

// stickerURL is the image of a sticker stored as "packageId/stickerId";
// "" without a base or for a body of another shape.
func (ib *Inbox) stickerURL(body string) string {
	_, id, ok := strings.Cut(body, "/")
	if ib.stickers == "" || !ok || id == "" || len(id) > 12 || strings.Trim(id, "0123456789") != "" {
		return ""
	}
	return ib.stickers + id + "/android/sticker.png"
}
