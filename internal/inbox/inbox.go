// Package inbox is the shared 1:1 inbox: one conversation per LINE user,
// every message in and out stored in the customer DB, and staff replies sent
// through the official account.
//
// Incoming events arrive already verified (package line) and are stored once,
// keyed by LINE's webhookEventId. Outgoing replies are written to the DB
// before anything is sent: a push carries a retry key stored with its row, so
// a resend after a crash or timeout can never reach the customer twice.
package inbox

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"tsunagu/internal/audit"
	"tsunagu/internal/auth"
	"tsunagu/internal/line"
	"tsunagu/internal/store"
)

// EventChanged is emitted with a ChangedEvent whenever a conversation's
// messages, unread count or state change.
const EventChanged = "inbox:changed"

// EventLineStatus is emitted with a LineStatusEvent when LINE's API
// becomes unreachable or reachable again (a breaker opened or closed); the
// UI then reads LineStatus.
const EventLineStatus = "inbox:lineStatus"

// LineStatusEvent is the payload of EventLineStatus.
type LineStatusEvent struct {
	Reachable bool `json:"reachable"`
}

// ChangedEvent is the payload of EventChanged.
type ChangedEvent struct {
	ConversationID int64 `json:"conversationId"`
}

// Emitter tells the UI that something changed. The desktop wires it to Wails
// events; tests and the CLI use their own.
type Emitter interface {
	Emit(name string, data any)
}

// ContentSource downloads what a customer sent in an image, video, audio or
// file message (line.Client.Content).
type ContentSource interface {
	Content(ctx context.Context, messageID string) ([]byte, string, error)
}

// ReadMarker marks a customer's messages read on LINE (既読) with a message
// event's markAsReadToken (line.Client.MarkAsReadByToken).
type ReadMarker interface {
	MarkAsReadByToken(ctx context.Context, token string) error
}

// Sender is the part of the LINE layer the inbox uses.
type Sender interface {
	PushText(ctx context.Context, to, text, retryKey string) (line.SendResult, error)
	ReplyText(ctx context.Context, replyToken, text string) (line.SendResult, error)
	// Push and Reply send other message objects (an image reply).
	Push(ctx context.Context, to string, msgs []line.Message, retryKey string) (line.SendResult, error)
	Reply(ctx context.Context, replyToken string, msgs []line.Message) (line.SendResult, error)
	Profile(ctx context.Context, userID string) (line.Profile, error)
}

// Errors a caller can act on. Messages are for logs; the UI maps them to its
// own catalog.
var (
	ErrNotFound    = errors.New("conversation or message not found")
	ErrUnreachable = errors.New("customer has blocked the official account")
	ErrEmpty       = errors.New("message is empty")
	ErrTooLong     = errors.New("message is longer than 5,000 characters")
	ErrNotRetrying = errors.New("message is not a failed outgoing message")
	ErrOffline     = errors.New("inbox is open read-only: no LINE connection")
	ErrNoActor     = errors.New("inbox: a send needs an actor for the audit trail")
)

// Actor is who makes a send. Audit names them in the audit trail
// (audit.StaffActor, audit.SystemActor); Name is what the conversation shows
// as the sender of a new reply. The audit entry is written in the same
// transaction that stores the message, so a send is never without its
// record, nor a record without its send.
type Actor struct {
	Audit string // e.g. "staff:tanaka"; required
	Name  string // display name stored as sent_by (replies only)
}

// SystemActor is the actor of sends the app makes by itself: resuming
// pushes left pending by a crash.
var SystemActor = Actor{Audit: audit.SystemActor}

// DefaultReplyTokenTTL is how long after an event its reply token is still
// used. LINE accepts reply tokens for about a minute; staying under it avoids
// a certain failure and the push fallback that follows it.
const DefaultReplyTokenTTL = 50 * time.Second

// DefaultProfileTTL is how long a fetched profile is trusted before an
// event from the user fetches it again: names and pictures change rarely,
// and each fetch is a request against the channel's rate limit.
const DefaultProfileTTL = 24 * time.Hour

// Config holds the inbox's dependencies.
type Config struct {
	DB            *store.DB
	Sender        Sender           // nil: read-only (the CLI), sends fail with ErrOffline
	Content       ContentSource    // nil: media content is not downloaded
	ReadMarker    ReadMarker       // nil: nothing is marked read on LINE
	Emitter       Emitter          // nil: no events
	Clock         func() time.Time // nil: time.Now
	ReplyTokenTTL time.Duration    // 0: DefaultReplyTokenTTL
	ProfileTTL    time.Duration    // 0: DefaultProfileTTL
	Logger        *slog.Logger     // nil: discard; never given message content
	// Hooks act on each fresh 1:1 event inside the webhook's transaction,
	// in this order (see Hook).
	Hooks []Hook
	// MediaHost puts images staff send where LINE can fetch them; nil:
	// image replies fail with ErrNoMediaHost.
	MediaHost MediaHost
	// Fetch and Queue configure the background fetcher and sender (Run).
	Fetch FetchConfig
	Queue SendQueueConfig
}

// Inbox stores conversations and sends staff replies.
type Inbox struct {
	db         *store.DB
	send       Sender
	content    ContentSource
	marker     ReadMarker
	emit       Emitter
	now        func() time.Time
	ttl        time.Duration
	profileTTL time.Duration
	log        *slog.Logger
	newKey     func() string
	hooks      []Hook
	media      MediaHost

	// Background work (Run): fetch jobs and the send queue, woken by
	// new work, held back per LINE endpoint by a breaker.
	fetchCfg  FetchConfig
	queueCfg  SendQueueConfig
	fetchSig  *signal
	sendSig   *signal
	brProfile *breaker
	brContent *breaker
	brSend    *breaker
	locks     convLocks
}

// New returns an inbox over an open DB.
func New(cfg Config) (*Inbox, error) {
	if cfg.DB == nil {
		return nil, errors.New("inbox: DB is required")
	}
	ib := &Inbox{
		db:         cfg.DB,
		send:       cfg.Sender,
		content:    cfg.Content,
		marker:     cfg.ReadMarker,
		emit:       cfg.Emitter,
		now:        cfg.Clock,
		ttl:        cfg.ReplyTokenTTL,
		profileTTL: cfg.ProfileTTL,
		log:        cfg.Logger,
		newKey:     func() string { return uuid.NewString() },
		hooks:      cfg.Hooks,
		media:      cfg.MediaHost,
		fetchCfg:   cfg.Fetch.withDefaults(),
		queueCfg:   cfg.Queue.withDefaults(),
		fetchSig:   newSignal(),
		sendSig:    newSignal(),
	}
	if ib.profileTTL <= 0 {
		ib.profileTTL = DefaultProfileTTL
	}
	if ib.log == nil {
		ib.log = slog.New(slog.DiscardHandler)
	}
	if ib.now == nil {
		ib.now = time.Now
	}
	if ib.ttl <= 0 {
		ib.ttl = DefaultReplyTokenTTL
	}
	changed := func() { ib.emitLineStatus() }
	ib.brProfile = newBreaker(cfg.Fetch.Breaker, ib.now, changed)
	ib.brContent = newBreaker(cfg.Fetch.Breaker, ib.now, changed)
	ib.brSend = newBreaker(cfg.Queue.Breaker, ib.now, changed)
	return ib, nil
}

// Run works, until ctx ends, what the webhook path leaves for later: the
// fetch jobs (profiles, content) and the send queue (hook replies, sends
// that waited out an outage). The engine runs it; without it nothing is
// fetched and queued sends wait.
func (ib *Inbox) Run(ctx context.Context) {
	var wg sync.WaitGroup
	if ib.send != nil || ib.content != nil || ib.fetchCfg.Profiles != nil || ib.fetchCfg.Content != nil {
		wg.Go(func() { ib.runFetcher(ctx) })
	}
	if ib.send != nil {
		wg.Go(func() { ib.runSender(ctx) })
	}
	wg.Wait()
}

// Conversation is one LINE user's thread.
type Conversation struct {
	ID            int64  `json:"id"`
	LineUserID    string `json:"lineUserId"`
	DisplayName   string `json:"displayName"`
	PictureURL    string `json:"pictureUrl"`
	FollowState   string `json:"followState"`
	Unreachable   bool   `json:"unreachable"` // LINE answered 404 for the profile
	Status        string `json:"status"`
	Unread        int    `json:"unread"`
	LastMessageAt int64  `json:"lastMessageAt"`
	LastKind      string `json:"lastKind"`
	LastPreview   string `json:"lastPreview"`
	AssigneeID    int64  `json:"assigneeId"` // 0: unassigned
	AssigneeName  string `json:"assigneeName"`
	CustomerID    int64  `json:"customerId"` // the linked customer, 0 if none
	CustomerName  string `json:"customerName"`
	Linked        bool   `json:"linked"`
	// Search results only: the newest matching message and a snippet of it.
	MatchMessageID int64  `json:"matchMessageId,omitempty"`
	Snippet        string `json:"snippet,omitempty"`
}

// Message is one message in or out, or a follow/unfollow marker.
type Message struct {
	ID             int64  `json:"id"`
	ConversationID int64  `json:"conversationId"`
	Direction      string `json:"direction"`
	Kind           string `json:"kind"`
	Body           string `json:"body"`
	SentBy         string `json:"sentBy"`
	Via            string `json:"via"`
	Status         string `json:"status"`
	Error          string `json:"error"`
	CreatedAt      int64  `json:"createdAt"`
	Unsent         bool   `json:"unsent"`     // the customer took it back; body is erased
	HasContent     bool   `json:"hasContent"` // downloaded media is stored (MessageContent)
	// Fetch is where fetching its content stands while HasContent is
	// false: FetchPending, FetchExpired, FetchRefused, FetchTooLarge, or
	// "" (nothing to fetch).
	Fetch string `json:"fetch"`
	// Label is what the button said, for a postback whose sender
	// registered it (RegisterPostbackLabel); "" shows the data.
	Label string `json:"label"`
	// Internal: a hook handled it as an exchange with the app (a link
	// code); it never counted as unread.
	Internal bool `json:"internal"`
}

// Message error codes stored with failed sends (and shown translated).
const (
	SendErrFailed      = "errors.sendFailed"
	SendErrUnreachable = "errors.unreachable"
	SendErrUncertain   = "errors.sendUncertain"
)

// Conversations lists every conversation: unread ones first, then the most
// recent. For the CLI and tests; screens page through List.
func (ib *Inbox) Conversations(ctx context.Context) ([]Conversation, error) {
	rows, err := ib.db.Reader().QueryContext(ctx, convSelect+convFrom+`
		ORDER BY (c.unread > 0) DESC, c.last_message_at DESC, c.id DESC`)
	if err != nil {
		return nil, fmt.Errorf("list conversations: %w", err)
	}
	defer rows.Close()
	out := []Conversation{}
	for rows.Next() {
		c, err := scanConversation(rows)
		if err != nil {
			return nil, fmt.Errorf("list conversations: %w", err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// Messages returns a conversation's messages in order.
func (ib *Inbox) Messages(ctx context.Context, conversationID int64) ([]Message, error) {
	var exists int
	err := ib.db.Reader().QueryRowContext(ctx, `SELECT 1 FROM conversations WHERE id = ?`, conversationID).Scan(&exists)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("conversation %d: %w", conversationID, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("conversation %d: %w", conversationID, err)
	}
	rows, err := ib.db.Reader().QueryContext(ctx, `
		SELECT `+messageColumns+` FROM messages WHERE conversation_id = ? ORDER BY id`, conversationID)
	if err != nil {
		return nil, fmt.Errorf("messages of conversation %d: %w", conversationID, err)
	}
	defer rows.Close()
	out := []Message{}
	for rows.Next() {
		m, err := scanMessage(rows)
		if err != nil {
			return nil, fmt.Errorf("messages of conversation %d: %w", conversationID, err)
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// FollowState is what the DB last recorded for a LINE user: "following",
// "unfollowed", "unknown", or "" for a user never seen.
func (ib *Inbox) FollowState(ctx context.Context, userID string) (string, error) {
	var state string
	err := ib.db.Reader().QueryRowContext(ctx, `SELECT follow_state FROM line_users WHERE user_id = ?`, userID).Scan(&state)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("follow state: %w", err)
	}
	return state, nil
}

// MarkRead clears a conversation's unread count. If the administrator has
// turned on marking read on LINE (SetMarkReadOnLINE), the customer's
// messages are then marked read on LINE too (MarkReadOnLINE); that is best
// effort: the conversation is read here whatever LINE answers, and a
// failure is only logged (the next MarkRead tries again).
func (ib *Inbox) MarkRead(ctx context.Context, conversationID int64) error {
	var n int64
	err := ib.db.Write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE conversations SET unread = 0 WHERE id = ?`, conversationID)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return fmt.Errorf("mark conversation %d read: %w", conversationID, err)
	}
	if n == 0 {
		return fmt.Errorf("conversation %d: %w", conversationID, ErrNotFound)
	}
	ib.notify(conversationID)
	if ib.marker == nil {
		return nil
	}
	on, err := ib.MarkReadOnLINEEnabled(ctx)
	if err != nil {
		ib.log.Warn("reading the mark-read-on-LINE setting", "err", err)
		return nil
	}
	if on {
		if err := ib.MarkReadOnLINE(ctx, conversationID); err != nil {
			ib.log.Warn("marking a conversation read on LINE", "conversation", conversationID, "err", err)
		}
	}
	return nil
}

// Reply sends text from staff to the conversation's customer. It uses the
// newest unused reply token if it is still fresh, and otherwise a push whose
// retry key is stored before the request leaves. The message is stored
// (pending, with its key and token) and audited (message.send, naming the
// conversation and message, never the text) in one transaction, then
// delivered through the conversation's send queue, after any earlier
// message still waiting there. The returned message carries the outcome:
// "sent"; "pending" if LINE could not be reached (it goes out by itself
// once LINE answers again, Run); or "failed" for good, with the error
// returned too.
func (ib *Inbox) Reply(ctx context.Context, conversationID int64, by Actor, text string) (Message, error) {
	if ib.send == nil {
		return Message{}, ErrOffline
	}
	if by.Audit == "" {
		return Message{}, ErrNoActor
	}
	if err := checkText(text); err != nil {
		return Message{}, err
	}
	unlock := ib.locks.lock(conversationID)
	defer unlock()
	now := ib.now()
	var msgID int64
	err := ib.db.Write(ctx, func(tx *sql.Tx) error {
		var follow string
		err := tx.QueryRowContext(ctx, `
			SELECT u.follow_state FROM conversations c
			JOIN line_users u ON u.user_id = c.line_user_id WHERE c.id = ?`, conversationID).Scan(&follow)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("conversation %d: %w", conversationID, ErrNotFound)
		}
		if err != nil {
			return err
		}
		if follow == "unfollowed" {
			return ErrUnreachable
		}
		// Claim the reply token in the same transaction that records the
		// reply, so two staff replying at once never use one token twice.
		token, until, err := claimReplyToken(ctx, tx, conversationID, now.Add(-ib.ttl), ib.ttl)
		if err != nil {
			return err
		}
		via := "reply"
		if token == nil {
			via = "push"
		}
		// Even a reply gets its key now: if LINE refuses the token, the
		// push that follows uses this stored key.
		res, err := tx.ExecContext(ctx, `
			INSERT INTO messages (conversation_id, direction, kind, body, sent_by, via, retry_key, status, created_at, send_token, send_token_until)
			VALUES (?, 'out', 'text', ?, ?, ?, ?, 'pending', ?, ?, ?)`,
			conversationID, text, by.Name, via, ib.newKey(), now.UnixMilli(), token, until)
		if err != nil {
			return err
		}
		if msgID, err = res.LastInsertId(); err != nil {
			return err
		}
		if err := touchConversation(ctx, tx, conversationID, now.UnixMilli(), "text", text, false); err != nil {
			return err
		}
		return recordSend(ctx, tx, by, audit.ActionMessageSend, conversationID, msgID, via, now)
	})
	if err != nil {
		return Message{}, fmt.Errorf("reply to conversation %d: %w", conversationID, err)
	}
	ib.notify(conversationID)
	return ib.deliverNow(ctx, conversationID, msgID)
}

// deliverNow delivers a conversation's queue up to and including msgID,
// which staff just stored, with the conversation's lock held, and returns
// the message as it stands. If it has to wait (LINE down, or an earlier
// message waiting), the background sender takes it from there.
func (ib *Inbox) deliverNow(ctx context.Context, convID, msgID int64) (Message, error) {
	sendErr, err := ib.deliverLocked(ctx, convID, ib.staffPath(), msgID, true)
	if err != nil {
		return Message{}, err
	}
	m, err := ib.message(ctx, msgID)
	if err != nil {
		return Message{}, err
	}
	switch m.Status {
	case "pending":
		ib.sendSig.fire()
	case "failed":
		if sendErr == nil {
			sendErr = errors.New(m.Error)
		}
		return m, fmt.Errorf("send message %d: %w", msgID, sendErr)
	}
	return m, nil
}

// RetryMessage resends a failed (or waiting) outgoing message now. A push
// is resent with its stored retry key, so if the first attempt did reach
// LINE, LINE answers 409 and the customer still gets one copy. The message
// is checked, marked pending (switched to a push with a fresh stored key if
// it was a reply) and audited (message.retry) in one transaction before the
// request leaves.
func (ib *Inbox) RetryMessage(ctx context.Context, messageID int64, by Actor) (Message, error) {
	if ib.send == nil {
		return Message{}, ErrOffline
	}
	if by.Audit == "" {
		return Message{}, ErrNoActor
	}
	var convID int64
	if err := ib.db.Reader().QueryRowContext(ctx, `SELECT conversation_id FROM messages WHERE id = ?`, messageID).Scan(&convID); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			err = ErrNotFound
		}
		return Message{}, fmt.Errorf("retry message %d: %w", messageID, err)
	}
	unlock := ib.locks.lock(convID)
	defer unlock()
	now := ib.now()
	err := ib.db.Write(ctx, func(tx *sql.Tx) error {
		var (
			via, status, dir, follow string
			key                      sql.NullString
			uncertain                sql.NullInt64
		)
		err := tx.QueryRowContext(ctx, `
			SELECT u.follow_state, COALESCE(m.via,''), m.retry_key, m.status, m.direction, m.uncertain_since
			FROM messages m JOIN conversations c ON c.id = m.conversation_id
			JOIN line_users u ON u.user_id = c.line_user_id WHERE m.id = ?`, messageID).
			Scan(&follow, &via, &key, &status, &dir, &uncertain)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		if dir != "out" || (status != "failed" && status != "pending") {
			return ErrNotRetrying
		}
		if follow == "unfollowed" {
			return ErrUnreachable
		}
		retryKey := key.String
		if via != "push" || !key.Valid {
			// A reply token is single-use: whatever happened to it, the
			// retry goes out as a push with a fresh, stored key.
			retryKey, uncertain = ib.newKey(), sql.NullInt64{}
		}
		// Pending again while the request is out: a crash now leaves a
		// keyed push that the sender resends harmlessly.
		if _, err := tx.ExecContext(ctx, `UPDATE messages SET via = 'push', retry_key = ?, status = 'pending', error = '',
			next_send_at = NULL, send_token = NULL, uncertain_since = ? WHERE id = ?`,
			retryKey, uncertain, messageID); err != nil {
			return err
		}
		return recordSend(ctx, tx, by, audit.ActionMessageRetry, convID, messageID, "push", now)
	})
	if err != nil {
		return Message{}, fmt.Errorf("retry message %d: %w", messageID, err)
	}
	ib.notify(convID)
	return ib.deliverNow(ctx, convID, messageID)
}

// recordSend audits a send or retry inside the transaction that stores it.
// The entry names the conversation and the message by ID and says how it
// goes out; it never holds the text (the audit trail outlives erasures and
// is exported to auditors). The outcome (sent, failed) is not audited: it is
// LINE's answer, not anyone's action, and it is kept on the message row
// (status, error, line_request_id), where a second entry per send would add
// nothing an auditor needs.
func recordSend(ctx context.Context, tx *sql.Tx, by Actor, action string, convID, msgID int64, via string, at time.Time) error {
	_, err := audit.Record(ctx, tx, audit.Entry{
		At:     at.UnixMilli(),
		Actor:  by.Audit,
		Action: action,
		Target: "conversation:" + strconv.FormatInt(convID, 10),
		Detail: map[string]string{"message": strconv.FormatInt(msgID, 10), "via": via},
	})
	return err
}

// --- helpers ---

const messageColumns = `id, conversation_id, direction, kind, body, COALESCE(sent_by,''), COALESCE(via,''), status, error, created_at,
	unsent_at IS NOT NULL, EXISTS (SELECT 1 FROM message_content mc WHERE mc.message_id = messages.id),
	CASE WHEN kind = 'postback' THEN COALESCE((SELECT label FROM postback_labels p WHERE p.data = messages.body), '') ELSE '' END,
	internal,
	COALESCE((SELECT CASE WHEN j.status = 'pending' THEN 'pending' ELSE j.reason END FROM fetch_jobs j WHERE j.message_id = messages.id), '')`

type scanner interface{ Scan(dest ...any) error }

func scanMessage(r scanner) (Message, error) {
	var m Message
	err := r.Scan(&m.ID, &m.ConversationID, &m.Direction, &m.Kind, &m.Body, &m.SentBy, &m.Via, &m.Status, &m.Error, &m.CreatedAt, &m.Unsent, &m.HasContent,
		&m.Label, &m.Internal, &m.Fetch)
	return m, err
}

func (ib *Inbox) message(ctx context.Context, id int64) (Message, error) {
	m, err := scanMessage(ib.db.Reader().QueryRowContext(ctx, `SELECT `+messageColumns+` FROM messages WHERE id = ?`, id))
	if err != nil {
		return Message{}, fmt.Errorf("message %d: %w", id, err)
	}
	return m, nil
}

// SendTimeout bounds one staff send, retries included. The LINE client
// retries a push for up to about a minute; a clerk waiting on the screen is
// better told sooner that the outcome is open. The message stays queued
// with its stored key, so the background sender's resend cannot duplicate
// it.
const SendTimeout = 20 * time.Second

// switchToPush turns an outgoing message into a push with its retry key
// (a new one if key is ""), stored before the caller sends.
func (ib *Inbox) switchToPush(ctx context.Context, msgID int64, key string) (string, error) {
	if key == "" {
		key = ib.newKey()
	}
	err := ib.db.Write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE messages SET via = 'push', retry_key = ?, status = 'pending', error = '', send_token = NULL
			WHERE id = ?`, key, msgID)
		return err
	})
	if err != nil {
		return "", fmt.Errorf("prepare push for message %d: %w", msgID, err)
	}
	return key, nil
}

func (ib *Inbox) notify(convID int64) {
	if ib.emit != nil {
		ib.emit.Emit(EventChanged, ChangedEvent{ConversationID: convID})
	}
}

// RefreshProfile fetches a user's display name and picture and stores them
// with the time of the fetch. If LINE answers 404 (blocked, not a friend, no
// consent) the user is marked unreachable, which later drives the email/SMS
// fallback; a later successful fetch or follow clears the mark. It returns
// the user's conversation ID (0 if none). Other failures change nothing: the
// conversation keeps what it had until a later refresh succeeds.
func (ib *Inbox) RefreshProfile(ctx context.Context, userID string) (int64, error) {
	if ib.send == nil {
		return 0, ErrOffline
	}
	p, err := ib.send.Profile(ctx, userID)
	unreachable := errors.Is(err, line.ErrUnreachable)
	if err != nil && !unreachable {
		return 0, fmt.Errorf("refresh profile: %w", err)
	}
	now := ib.now().UnixMilli()
	var convID int64
	err = ib.db.Write(ctx, func(tx *sql.Tx) error {
		var err error
		if unreachable {
			_, err = tx.ExecContext(ctx, `UPDATE line_users SET unreachable_at = COALESCE(unreachable_at, ?), profile_at = ? WHERE user_id = ?`,
				now, now, userID)
		} else {
			_, err = tx.ExecContext(ctx, `UPDATE line_users SET display_name = ?, picture_url = ?, profile_at = ?, unreachable_at = NULL WHERE user_id = ?`,
				p.DisplayName, p.PictureURL, now, userID)
		}
		if err != nil {
			return err
		}
		err = tx.QueryRowContext(ctx, `SELECT id FROM conversations WHERE line_user_id = ?`, userID).Scan(&convID)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("store profile: %w", err)
	}
	return convID, nil
}

func checkText(text string) error {
	if strings.TrimSpace(text) == "" {
		return ErrEmpty
	}
	err := line.ValidateText(text)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, line.ErrTextTooLong):
		return fmt.Errorf("%w: %v", ErrTooLong, err)
	case errors.Is(err, line.ErrTextEmpty):
		return ErrEmpty
	}
	return err
}

func isInvalidReplyToken(err error) bool {
	var apiErr *line.APIError
	return errors.As(err, &apiErr) && apiErr.Status == 400 &&
		strings.Contains(strings.ToLower(apiErr.Message), "reply token")
}

// --- marking read on LINE (既読) ---

// SettingMarkReadOnLINE is the setting (in security_settings, changed by an
// administrator, audited) that makes MarkRead mark messages read on LINE:
// "on" or anything else for off. Off by default: once customers see 既読
// they expect an answer soon, and a branch may not want to promise that
// before someone has replied.
const SettingMarkReadOnLINE = "line_mark_read"

// MarkReadTimeout bounds one mark-as-read call to LINE, retries included: it
// runs while staff open a conversation and must not keep them waiting on a
// LINE outage.
const MarkReadTimeout = 5 * time.Second

// MarkReadOnLINEEnabled reports whether MarkRead also marks messages read
// on LINE.
func (ib *Inbox) MarkReadOnLINEEnabled(ctx context.Context) (bool, error) {
	v, err := auth.GetSetting(ctx, ib.db.Reader(), SettingMarkReadOnLINE)
	if err != nil {
		return false, err
	}
	return v == "on", nil
}

// SetMarkReadOnLINE turns marking read on LINE on or off; the change is
// audited (settings.change, with the old and new value) by actor.
func (ib *Inbox) SetMarkReadOnLINE(ctx context.Context, actor string, on bool) error {
	v := "off"
	if on {
		v = "on"
	}
	if err := auth.SetSetting(ctx, ib.db, actor, SettingMarkReadOnLINE, v); err != nil {
		return fmt.Errorf("set %s: %w", SettingMarkReadOnLINE, err)
	}
	return nil
}

// MarkReadOnLINE marks the conversation's messages read on LINE: the
// customer sees 既読 on everything sent so far. It uses the newest stored
// read token (LINE marks that message and all earlier ones), then forgets
// the tokens it covered, so a second call without new messages sends
// nothing. A token LINE refuses for good (4xx) is forgotten as well, so it
// is not sent again and again. It does not depend on the setting: MarkRead
// does.
func (ib *Inbox) MarkReadOnLINE(ctx context.Context, conversationID int64) error {
	if ib.marker == nil {
		return ErrOffline
	}
	var (
		msgID int64
		token string
	)
	err := ib.db.Reader().QueryRowContext(ctx, `
		SELECT id, mark_as_read_token FROM messages
		WHERE conversation_id = ? AND direction = 'in' AND mark_as_read_token IS NOT NULL AND mark_as_read_token <> ''
		ORDER BY id DESC LIMIT 1`, conversationID).Scan(&msgID, &token)
	if errors.Is(err, sql.ErrNoRows) {
		return nil // nothing new since the last time, or no conversation
	}
	if err != nil {
		return fmt.Errorf("mark conversation %d read on LINE: %w", conversationID, err)
	}
	mctx, cancel := context.WithTimeout(ctx, MarkReadTimeout)
	sendErr := ib.marker.MarkAsReadByToken(mctx, token)
	cancel()
	var apiErr *line.APIError
	if sendErr != nil && !(errors.As(sendErr, &apiErr) && !apiErr.Temporary()) {
		// Uncertain or temporary: keep the token for the next try.
		return fmt.Errorf("mark conversation %d read on LINE: %w", conversationID, sendErr)
	}
	err = ib.db.Write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `
			UPDATE messages SET mark_as_read_token = NULL
			WHERE conversation_id = ? AND id <= ? AND mark_as_read_token IS NOT NULL`, conversationID, msgID)
		return err
	})
	if err != nil {
		return fmt.Errorf("forget read tokens of conversation %d: %w", conversationID, err)
	}
	if sendErr != nil {
		return fmt.Errorf("mark conversation %d read on LINE: %w", conversationID, sendErr)
	}
	return nil
}
