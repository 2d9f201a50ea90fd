package inbox

import (
	"context"
	"database/sql"
	"time"

	"tsunagu/internal/line"
	"tsunagu/internal/store"
)

// Hook lets a feature that owns part of the conversation (linking by code,
// keyword auto-replies, the away reply, surveys) act on an incoming event.
//
// Hooks run inside the webhook's write transaction, after the event itself
// is stored, in the order they were configured. A hook writes its own tables
// through tx, so its change commits or rolls back with the event: a crash
// between the two can never leave a link made without its event stored, or
// the reverse. A hook must not call LINE or block on anything but the DB.
type Hook interface {
	HandleEvent(ctx context.Context, tx *sql.Tx, ev HookEvent) (HookResult, error)
}

// HookEvent is what a hook sees of one fresh (never seen before) event of a
// 1:1 chat. Redeliveries of a stored event never reach hooks.
type HookEvent struct {
	Type           string // message, postback, follow, unfollow, unsend, ...
	EventID        string // LINE's webhookEventId
	UserID         string // LINE user ID
	ConversationID int64
	MessageID      int64  // the stored message row (0 if the event stored none)
	Kind           string // message kind: text, sticker, image, ... ("" for non-messages)
	Text           string // text of a text message; "" otherwise
	PostbackData   string // data of a postback event; "" otherwise
	// PostbackParams are a postback's params (a datetime picker's
	// "date", "time" or "datetime"); nil otherwise.
	PostbackParams map[string]string
	At             time.Time
	// Stmts is the webhook's transaction with each statement prepared
	// once per batch (store.TxCache). Hooks run on every event of a burst:
	// their per-event reads and writes go through Q, so SQLite does not
	// parse the same statements hundreds of times.
	Stmts store.Execer
}

// Q is the event's statements (Stmts), or tx where there are none.
func (ev HookEvent) Q(tx *sql.Tx) store.Execer {
	if ev.Stmts != nil {
		return ev.Stmts
	}
	return tx
}

// HookResult is what a hook wants done.
type HookResult struct {
	// Replies are sent to the user after the transaction commits, as
	// outgoing messages of the conversation stored in the same
	// transaction (with their retry keys), by the event's reply token when
	// it is fresh, otherwise by push. SentBy is what the thread shows as
	// the sender (e.g. 自動応答).
	Replies []HookReply
	// Stop ends the chain: later hooks do not see the event (a link code
	// consumed by linking must not also trigger a keyword reply).
	Stop bool
	// Internal marks the stored message as an exchange with the app itself
	// (a link code, a birth date sent for an identity check): it does not
	// count as unread for staff, though it stays in the thread.
	Internal bool
}

// HookReply is one answer a hook asks the inbox to send: a text, or a full
// LINE message object (quick replies, a Flex bubble) with Text as what the
// thread shows of it.
type HookReply struct {
	Text   string
	SentBy string
	Audit  string // audit actor, e.g. audit.SystemActor or "system:autoreply"
	// Source is the feature that answers ("autoreply", "linking",
	// "survey", or with an ID: "survey:3"); the thread shows its kind.
	Source string
	// Message, when set, is sent as it is (stored as the message's payload,
	// so a retry resends the same bytes); Text is then only its summary.
	Message *line.Message
}
