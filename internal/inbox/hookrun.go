package inbox

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"tsunagu/internal/audit"
	"tsunagu/internal/line"
	"tsunagu/internal/store"
)

// hookSend is a hook reply stored in the webhook's transaction; the
// background sender delivers it once it commits (sender.go).
type hookSend struct {
	msgID, convID int64
	userID, text  string
	msgs          []line.Message // a full message (HookReply.Message); nil: text
	token, key    string         // token "": push with key
}

// runHooks hands a fresh 1:1 event to the hooks, in order, inside the
// webhook's transaction, and stores what they ask to send. Each hook runs
// under a savepoint: a hook that fails is rolled back alone and logged, so
// one feature's bug neither loses the event nor makes LINE redeliver it
// forever.
func (ib *Inbox) runHooks(ctx context.Context, tx *sql.Tx, c store.Execer, in incoming, convID, msgID, now int64) ([]hookSend, error) {
	if len(ib.hooks) == 0 {
		return nil, nil
	}
	ev := HookEvent{Type: in.eventType, EventID: in.eventID, UserID: in.userID, ConversationID: convID, MessageID: msgID,
		At: time.UnixMilli(eventTime(in, now)), Stmts: c}
	switch in.eventType {
	case "message":
		ev.Kind = in.kind
		if in.kind == "text" {
			ev.Text = in.body
		}
	case "postback":
		ev.PostbackData = in.body
		ev.PostbackParams = in.postbackParams
	}
	var (
		replies  []HookReply
		internal bool
	)
	for i, h := range ib.hooks {
		if _, err := c.ExecContext(ctx, `SAVEPOINT inbox_hook`); err != nil {
			return nil, fmt.Errorf("hook %d: %w", i, err)
		}
		res, err := h.HandleEvent(ctx, tx, ev)
		if err != nil {
			ib.log.Error("inbox hook failed; its changes are rolled back", "hook", i, "type", in.eventType, "err", err)
			if _, err := c.ExecContext(ctx, `ROLLBACK TO inbox_hook`); err != nil {
				return nil, fmt.Errorf("hook %d: %w", i, err)
			}
		} else {
			replies = append(replies, res.Replies...)
			internal = internal || res.Internal
		}
		if _, err := c.ExecContext(ctx, `RELEASE inbox_hook`); err != nil {
			return nil, fmt.Errorf("hook %d: %w", i, err)
		}
		if err == nil && res.Stop {
			break
		}
	}
	if internal && msgID != 0 {
		if _, err := c.ExecContext(ctx, `UPDATE messages SET internal = 1 WHERE id = ?`, msgID); err != nil {
			return nil, fmt.Errorf("mark message internal: %w", err)
		}
		if in.unread {
			if _, err := c.ExecContext(ctx, `UPDATE conversations SET unread = MAX(unread - 1, 0) WHERE id = ?`, convID); err != nil {
				return nil, fmt.Errorf("mark message internal: %w", err)
			}
		}
	}
	if len(replies) == 0 {
		return nil, nil
	}
	return ib.storeHookReplies(ctx, tx, c, in, convID, msgID, replies, now)
}

// storeHookReplies stores each reply as a pending outgoing message with its
// retry key, audited under the reply's actor. The first may use the event's
// reply token if it is fresh and unused (it is claimed here, so no staff
// reply can use it too); the others are pushes. Nothing is stored for a
// user who blocked the account, nor in standby mode, where another channel
// answers the chat.
func (ib *Inbox) storeHookReplies(ctx context.Context, tx *sql.Tx, c store.Execer, in incoming, convID, msgID int64, replies []HookReply, now int64) ([]hookSend, error) {
	if in.standby {
		ib.log.Info("hook replies not sent: the channel is in standby mode", "n", len(replies))
		return nil, nil
	}
	var follow string
	if err := c.QueryRowContext(ctx, `SELECT follow_state FROM line_users WHERE user_id = ?`, in.userID).Scan(&follow); err != nil {
		return nil, fmt.Errorf("hook replies: %w", err)
	}
	if follow == "unfollowed" {
		return nil, nil
	}
	token := ""
	until := eventTime(in, now) + ib.ttl.Milliseconds()
	if msgID != 0 && in.replyToken != "" && eventTime(in, now) >= now-ib.ttl.Milliseconds() {
		res, err := c.ExecContext(ctx, `UPDATE messages SET reply_token_used = 1 WHERE id = ? AND reply_token_used = 0`, msgID)
		if err != nil {
			return nil, fmt.Errorf("claim reply token: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 1 {
			token = in.replyToken
		}
	}
	at := time.UnixMilli(now)
	var out []hookSend
	for _, r := range replies {
		var (
			msgs    []line.Message
			payload sql.NullString
		)
		if r.Message != nil {
			msgs = []line.Message{*r.Message}
			raw, err := line.MarshalMessages(msgs)
			if err == nil {
				err = line.ValidateMessages(msgs)
			}
			if err != nil {
				ib.log.Warn("hook reply dropped", "err", err)
				continue
			}
			payload = sql.NullString{String: string(raw), Valid: true}
		} else if err := checkText(r.Text); err != nil {
			ib.log.Warn("hook reply dropped", "err", err)
			continue
		}
		actor := Actor{Audit: r.Audit, Name: r.SentBy}
		if actor.Audit == "" {
			return nil, ErrNoActor
		}
		via := "push"
		if token != "" {
			via = "reply"
		}
		// Even a reply gets its key now: if LINE refuses the token, the
		// push that follows uses this stored key.
		key := ib.newKey()
		// The token is stored with the reply: the background sender
		// uses it while it is fresh, and pushes with the key after.
		var tok, tokUntil any
		if token != "" {
			tok, tokUntil = token, until
		}
		var source any
		if r.Source != "" {
			source = r.Source
		}
		res, err := c.ExecContext(ctx, `
			INSERT INTO messages (conversation_id, direction, kind, body, sent_by, via, retry_key, status, created_at, payload, send_token, send_token_until, source)
			VALUES (?, 'out', 'text', ?, ?, ?, ?, 'pending', ?, ?, ?, ?, ?)`, convID, r.Text, r.SentBy, via, key, now, payload, tok, tokUntil, source)
		if err != nil {
			return nil, fmt.Errorf("store hook reply: %w", err)
		}
		id, err := res.LastInsertId()
		if err != nil {
			return nil, fmt.Errorf("store hook reply: %w", err)
		}
		if err := touchConversation(ctx, c, convID, now, "text", r.Text, false); err != nil {
			return nil, err
		}
		if r.Message != nil {
			// A tap on one of its buttons shows the button's label.
			if err := registerPostbackLabels(ctx, c, *r.Message, now); err != nil {
				return nil, err
			}
		}
		if err := recordSend(ctx, tx, actor, audit.ActionMessageSend, convID, id, via, at); err != nil {
			return nil, err
		}
		out = append(out, hookSend{msgID: id, convID: convID, userID: in.userID, text: r.Text, msgs: msgs, token: token, key: key})
		token = "" // a token carries one request
	}
	return out, nil
}
