// Package inbox is the shared 1:1 inbox: one conversation per LINE user,
// every message in and out stored in the customer DB, and staff replies sent
// through the official account.
//
// Incoming events arrive already verified (package line) and are stored once,
// keyed by LINE's webhookEventId. Outgoing replies are written to the DB
// before anything is sent: a push carries a retry key stored with its row, so
// a resend after a crash or timeout can never reach the customer twice.
//
// Where things are: this file holds the types, the configuration and Run;
// ingest.go (with events.go, hooks.go, hookrun.go) stores webhooks;
// send.go stores and audits staff replies and retries, sender.go delivers
// them through each conversation's queue; read.go and list.go read
// conversations and messages; markread.go marks them read, here and on
// LINE; fetch.go and fetcher.go fetch profiles and content in the
// background; deadletters.go keeps events that could not be stored.
package inbox

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/google/uuid"

	"tsunagu/internal/audit"
	"tsunagu/internal/clicks"
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
	// ErrLinksUntrackable: the clerk chose to track a link, but no relay
	// is enrolled now; nothing was stored or sent.
	ErrLinksUntrackable = errors.New("inbox: a link was chosen to be tracked, but no webhook relay is enrolled")
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
	SendTimeout   time.Duration    // 0: SendTimeout (a staff send; tests shorten it)
	Logger        *slog.Logger     // nil: discard; never given message content
	// Hooks act on each fresh 1:1 event inside the webhook's transaction,
	// in this order (see Hook).
	Hooks []Hook
	// MediaHost puts images staff send where LINE can fetch them; nil:
	// image replies fail with ErrNoMediaHost.
	MediaHost MediaHost
	// StickerImageBase is the URL prefix of sticker images (the LINE CDN's
	// line.StickerImageBase, the simulator's in the sandbox); "" shows
	// stickers as their text label only.
	StickerImageBase string
	// Links tracks the links a clerk chooses to track in a reply
	// (ReplyTracked); nil, or no relay: every link goes as written.
	Links *clicks.Service
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
	sendTO     time.Duration // bounds a staff send (SendTimeout)
	log        *slog.Logger
	newKey     func() string
	hooks      []Hook
	media      MediaHost
	stickers   string // StickerImageBase
	links      *clicks.Service

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
		sendTO:     cfg.SendTimeout,
		log:        cfg.Logger,
		newKey:     func() string { return uuid.NewString() },
		hooks:      cfg.Hooks,
		media:      cfg.MediaHost,
		stickers:   cfg.StickerImageBase,
		links:      cfg.Links,
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
	if ib.sendTO <= 0 {
		ib.sendTO = SendTimeout
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
	// MatchedName: the search found the conversation by the LINE name or
	// the linked customer's name or kana (no snippet).
	MatchedName bool `json:"matchedName,omitempty"`
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
	// Origin is what sent an outgoing message no staff member typed:
	// OriginCampaign, OriginSurvey, OriginReminder, OriginWelcome,
	// OriginAutoreply; "" for a staff reply. OriginName is the
	// campaign's, survey's or automation's name, "" if none or erased.
	Origin     string `json:"origin,omitempty"`
	OriginName string `json:"originName,omitempty"`
	// Tracked: recorded from a campaign's or the outbox's send
	// (RecordSent); its status is that send's, and it is retried there,
	// not from the thread.
	Tracked bool `json:"tracked,omitempty"`
	// StickerURL is a sticker's image (Config.StickerImageBase); "" for
	// other kinds and for masked roles.
	StickerURL string `json:"stickerUrl,omitempty"`
}

// notify tells the UI that a conversation changed.
func (ib *Inbox) notify(convID int64) {
	if ib.emit != nil {
		ib.emit.Emit(EventChanged, ChangedEvent{ConversationID: convID})
	}
}
