package inbox

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"tsunagu/internal/textfold"
)

// ListQuery selects and pages the conversation list. The zero value is the
// first page of every conversation, unread first, then the most recent.
type ListQuery struct {
	Assignee string `json:"assignee"` // "", "mine", "unassigned"
	Status   string `json:"status"`   // "", "open", "pending", "closed"
	Link     string `json:"link"`     // "", "linked", "unlinked"
	Follow   string `json:"follow"`   // "", "blocked", "following"
	// Search finds conversations with a text message containing it (in or
	// out), the most recent match first.
	Search string `json:"search"`
	Cursor string `json:"cursor"` // ListPage.Next of the page before; "" for the first
	Limit  int    `json:"limit"`  // 0: DefaultPageSize
	// Me is the signed-in staff member's ID, for Assignee "mine" (set by
	// the caller, never by the UI).
	Me int64 `json:"-"`
}

// ListPage is one page of conversations.
type ListPage struct {
	Conversations []Conversation `json:"conversations"`
	Next          string         `json:"next"` // "" on the last page
	// UnreadTotal is the unread messages of all conversations (whatever
	// the filters), for the badge; on first pages without a search only.
	UnreadTotal int `json:"unreadTotal"`
}

// Page sizes of the conversation list.
const (
	DefaultPageSize = 50
	MaxPageSize     = 200
)

// ErrBadQuery: a filter value or cursor the list does not know.
var ErrBadQuery = errors.New("inbox: invalid list query")

// minFTSRunes is the shortest query the trigram index can answer.
const minFTSRunes = 3

// convSelect reads a Conversation; its FROM joins what the filters need.
const convSelect = `
	SELECT c.id, c.line_user_id, u.display_name, u.picture_url, u.follow_state, u.unreachable_at IS NOT NULL,
	       c.status, c.unread, c.last_message_at, c.last_kind, c.last_preview,
	       COALESCE(c.assignee_id, 0), COALESCE(s.display_name, ''), COALESCE(l.customer_id, 0), COALESCE(cu.name, '')`

const convFrom = `
	FROM conversations c` + convJoins

const convJoins = `
	JOIN line_users u ON u.user_id = c.line_user_id
	LEFT JOIN staff s ON s.id = c.assignee_id
	LEFT JOIN customer_line_links l ON l.line_user_id = c.line_user_id
	LEFT JOIN customers cu ON cu.id = l.customer_id`

func scanConversation(r scanner, extra ...any) (Conversation, error) {
	var c Conversation
	dest := []any{&c.ID, &c.LineUserID, &c.DisplayName, &c.PictureURL, &c.FollowState, &c.Unreachable,
		&c.Status, &c.Unread, &c.LastMessageAt, &c.LastKind, &c.LastPreview,
		&c.AssigneeID, &c.AssigneeName, &c.CustomerID, &c.CustomerName}
	err := r.Scan(append(dest, extra...)...)
	c.Linked = c.CustomerID != 0
	return c, err
}

// filters turns the query's filters into SQL conditions and arguments.
func (q ListQuery) filters() ([]string, []any, error) {
	var (
		where []string
		args  []any
	)
	switch q.Assignee {
	case "":
	case "mine":
		where, args = append(where, "c.assignee_id = ?"), append(args, q.Me)
	case "unassigned":
		where = append(where, "c.assignee_id IS NULL")
	default:
		return nil, nil, fmt.Errorf("%w: assignee %q", ErrBadQuery, q.Assignee)
	}
	switch q.Status {
	case "":
	case "open", "pending", "closed":
		where, args = append(where, "c.status = ?"), append(args, q.Status)
	default:
		return nil, nil, fmt.Errorf("%w: status %q", ErrBadQuery, q.Status)
	}
	switch q.Link {
	case "":
	case "linked":
		where = append(where, "l.customer_id IS NOT NULL")
	case "unlinked":
		where = append(where, "l.customer_id IS NULL")
	default:
		return nil, nil, fmt.Errorf("%w: link %q", ErrBadQuery, q.Link)
	}
	switch q.Follow {
	case "":
	case "blocked":
		where = append(where, "u.follow_state = 'unfollowed'")
	case "following":
		where = append(where, "u.follow_state <> 'unfollowed'")
	default:
		return nil, nil, fmt.Errorf("%w: follow %q", ErrBadQuery, q.Follow)
	}
	return where, args, nil
}

// List returns one page of conversations. Without a search they come unread
// first, then by latest message, paged by keyset (the cursor is the last
// row's sort key), so a page costs the same however deep it is and rows
// that move between two pages are neither lost nor doubled more than once.
// With a search, conversations come by their newest matching message, each
// with a snippet of it; a conversation may reappear on a later page with an
// older match (the UI merges by ID).
func (ib *Inbox) List(ctx context.Context, q ListQuery) (ListPage, error) {
	if q.Limit <= 0 {
		q.Limit = DefaultPageSize
	}
	q.Limit = min(q.Limit, MaxPageSize)
	where, args, err := q.filters()
	if err != nil {
		return ListPage{}, err
	}
	if s := strings.TrimSpace(q.Search); s != "" {
		return ib.search(ctx, q, s, where, args)
	}
	if q.Cursor != "" {
		var u, at, id int64
		if _, err := fmt.Sscanf(q.Cursor, "c%d:%d:%d", &u, &at, &id); err != nil {
			return ListPage{}, fmt.Errorf("%w: cursor", ErrBadQuery)
		}
		where = append(where, "((c.unread > 0), c.last_message_at, c.id) < (?, ?, ?)")
		args = append(args, u, at, id)
	}
	query := convSelect + convFrom
	if len(where) > 0 {
		query += " WHERE " + strings.Join(where, " AND ")
	}
	query += ` ORDER BY (c.unread > 0) DESC, c.last_message_at DESC, c.id DESC LIMIT ?`
	rows, err := ib.db.Reader().QueryContext(ctx, query, append(args, q.Limit+1)...)
	if err != nil {
		return ListPage{}, fmt.Errorf("list conversations: %w", err)
	}
	defer rows.Close()
	page := ListPage{Conversations: []Conversation{}}
	for rows.Next() {
		c, err := scanConversation(rows)
		if err != nil {
			return ListPage{}, fmt.Errorf("list conversations: %w", err)
		}
		page.Conversations = append(page.Conversations, c)
	}
	if err := rows.Err(); err != nil {
		return ListPage{}, fmt.Errorf("list conversations: %w", err)
	}
	if q.Cursor == "" {
		// Served by conversations_inbox: only unread rows are read.
		if err := ib.db.Reader().QueryRowContext(ctx, `SELECT COALESCE(SUM(unread), 0) FROM conversations WHERE (unread > 0) = 1`).
			Scan(&page.UnreadTotal); err != nil {
			return ListPage{}, fmt.Errorf("count unread: %w", err)
		}
	}
	if len(page.Conversations) > q.Limit {
		page.Conversations = page.Conversations[:q.Limit]
		last := page.Conversations[q.Limit-1]
		u := 0
		if last.Unread > 0 {
			u = 1
		}
		page.Next = fmt.Sprintf("c%d:%d:%d", u, last.LastMessageAt, last.ID)
	}
	return page, nil
}

// search finds conversations by who they are with and by what was said.
// Every comparison is on search keys (textfold.Fold, tsunagu_fold in SQL):
// the query and the text fold alike, so ＬＩＮＥ finds "line" and 高橋 finds
// 髙橋.
//
// The first page starts with the conversations whose LINE name or linked
// customer's name or kana holds the query (most recent first, at most a
// page: the inbox has one conversation per LINE friend, so a name rarely
// matches more). Then it walks the matching messages newest first and stops
// as soon as it has a page of distinct conversations: a common word costs
// no more than a rare one. Queries of 3 characters or more (folded) use the
// trigram index of folded text (migration 0022); shorter ones (e.g. 預金)
// scan the text messages with LIKE, newest first; campaign copies are in
// neither (one campaign word would list every recipient).
func (ib *Inbox) search(ctx context.Context, q ListQuery, s string, where []string, args []any) (ListPage, error) {
	before := int64(-1)
	if q.Cursor != "" {
		if _, err := fmt.Sscanf(q.Cursor, "s%d", &before); err != nil || before <= 0 {
			return ListPage{}, fmt.Errorf("%w: cursor", ErrBadQuery)
		}
	}
	key := textfold.Fold(s)
	page := ListPage{Conversations: []Conversation{}}
	if key == "" {
		return page, nil
	}
	seen := map[int64]bool{}
	if q.Cursor == "" {
		named, err := ib.searchNames(ctx, q, key, where, args)
		if err != nil {
			return ListPage{}, err
		}
		for _, c := range named {
			seen[c.ID] = true
		}
		page.Conversations = append(page.Conversations, named...)
		if len(page.Conversations) >= q.Limit {
			// A full page of names: the messages follow on the next page.
			page.Next = "s" + strconv.FormatInt(math.MaxInt64, 10)
			return page, nil
		}
	}
	var query string
	var qargs []any
	if utf8.RuneCountInString(key) >= minFTSRunes {
		query = convSelect + `, m.id, m.body FROM messages_fts f JOIN messages m ON m.id = f.rowid
			JOIN conversations c ON c.id = m.conversation_id` + convJoins + `
			WHERE messages_fts MATCH ?`
		qargs = append(qargs, `"`+strings.ReplaceAll(key, `"`, `""`)+`"`)
		if before > 0 {
			query += ` AND f.rowid < ?`
			qargs = append(qargs, before)
		}
		for _, w := range where {
			query += " AND " + w
		}
		query += ` ORDER BY f.rowid DESC`
	} else {
		query = convSelect + `, m.id, m.body FROM messages m
			JOIN conversations c ON c.id = m.conversation_id` + convJoins + `
			WHERE m.kind = 'text' AND m.campaign_request IS NULL AND ` + textfold.SQLFunc + `(m.body) LIKE ? ESCAPE '\'`
		qargs = append(qargs, "%"+likeEscape(key)+"%")
		if before > 0 {
			query += ` AND m.id < ?`
			qargs = append(qargs, before)
		}
		for _, w := range where {
			query += " AND " + w
		}
		query += ` ORDER BY m.id DESC`
	}
	rows, err := ib.db.Reader().QueryContext(ctx, query, append(qargs, args...)...)
	if err != nil {
		return ListPage{}, fmt.Errorf("search conversations: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			msgID int64
			body  string
		)
		c, err := scanConversation(rows, &msgID, &body)
		if err != nil {
			return ListPage{}, fmt.Errorf("search conversations: %w", err)
		}
		if seen[c.ID] {
			continue
		}
		if len(page.Conversations) == q.Limit {
			// One more conversation exists: the next page starts at its
			// match.
			page.Next = "s" + strconv.FormatInt(msgID+1, 10)
			break
		}
		seen[c.ID] = true
		c.MatchMessageID = msgID
		c.Snippet = snippet(body, s, 60)
		page.Conversations = append(page.Conversations, c)
	}
	if err := rows.Err(); err != nil {
		return ListPage{}, fmt.Errorf("search conversations: %w", err)
	}
	return page, nil
}

// searchNames returns the conversations (at most a page, most recent
// first) whose LINE display name, or linked customer's name or kana, holds
// the folded query key. Few rows: one per LINE friend.
func (ib *Inbox) searchNames(ctx context.Context, q ListQuery, key string, where []string, args []any) ([]Conversation, error) {
	// line_user_search holds each LINE user's names as one folded key,
	// kept by triggers (migration 0022): a plain LIKE over short keys.
	query := convSelect + convFrom + ` JOIN line_user_search k ON k.user_id = c.line_user_id WHERE k.key LIKE ? ESCAPE '\'`
	for _, w := range where {
		query += " AND " + w
	}
	query += ` ORDER BY c.last_message_at DESC, c.id DESC LIMIT ?`
	rows, err := ib.db.Reader().QueryContext(ctx, query, append(append([]any{"%" + likeEscape(key) + "%"}, args...), q.Limit)...)
	if err != nil {
		return nil, fmt.Errorf("search conversations by name: %w", err)
	}
	defer rows.Close()
	var out []Conversation
	for rows.Next() {
		c, err := scanConversation(rows)
		if err != nil {
			return nil, fmt.Errorf("search conversations by name: %w", err)
		}
		c.MatchedName = true
		out = append(out, c)
	}
	return out, rows.Err()
}

func likeEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// snippet cuts text to about width characters around the first match of q
// (case-insensitive for ASCII, as the index is).
func snippet(text, q string, width int) string {
	text = strings.Join(strings.Fields(text), " ")
	r := []rune(text)
	if len(r) <= width {
		return text
	}
	at := matchAt(text, q)
	start := max(0, at-width/3)
	end := min(len(r), start+width)
	start = max(0, end-width)
	out := string(r[start:end])
	if start > 0 {
		out = "…" + out
	}
	if end < len(r) {
		out += "…"
	}
	return out
}

// matchAt is the rune index in text where the query matches as search keys
// do (textfold.Fold of both), 0 if it does not.
func matchAt(text, q string) int {
	if i := strings.Index(strings.ToLower(text), strings.ToLower(q)); i >= 0 {
		return utf8.RuneCountInString(text[:i]) // as typed: no folding needed
	}
	key := textfold.Fold(q)
	if key == "" {
		return 0
	}
	n := 0
	for i := range text {
		if strings.HasPrefix(textfold.Fold(prefixRunes(text[i:], 2*utf8.RuneCountInString(q)+4)), key) {
			return n
		}
		n++
	}
	return 0
}

// prefixRunes is s cut to its first n runes.
func prefixRunes(s string, n int) string {
	for i := range s {
		if n == 0 {
			return s[:i]
		}
		n--
	}
	return s
}

// Conversation returns one conversation.
func (ib *Inbox) Conversation(ctx context.Context, id int64) (Conversation, error) {
	c, err := scanConversation(ib.db.Reader().QueryRowContext(ctx, convSelect+convFrom+` WHERE c.id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Conversation{}, fmt.Errorf("conversation %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return Conversation{}, fmt.Errorf("conversation %d: %w", id, err)
	}
	return c, nil
}

// MessagePage is a conversation's messages, oldest first, and whether older
// ones exist.
type MessagePage struct {
	Messages []Message `json:"messages"`
	More     bool      `json:"more"`
}

// DefaultMessagePage is how many messages opening a conversation loads.
const DefaultMessagePage = 50

// RecentMessages returns the latest limit messages of a conversation before
// message ID before (0: the newest), oldest first.
func (ib *Inbox) RecentMessages(ctx context.Context, conversationID, before int64, limit int) (MessagePage, error) {
	if limit <= 0 {
		limit = DefaultMessagePage
	}
	limit = min(limit, MaxPageSize)
	var exists int
	err := ib.db.Reader().QueryRowContext(ctx, `SELECT 1 FROM conversations WHERE id = ?`, conversationID).Scan(&exists)
	if errors.Is(err, sql.ErrNoRows) {
		return MessagePage{}, fmt.Errorf("conversation %d: %w", conversationID, ErrNotFound)
	}
	if err != nil {
		return MessagePage{}, fmt.Errorf("conversation %d: %w", conversationID, err)
	}
	if before <= 0 {
		before = 1<<63 - 1
	}
	rows, err := ib.db.Reader().QueryContext(ctx, `
		SELECT `+messageColumns+` FROM messages WHERE conversation_id = ? AND id < ? ORDER BY id DESC LIMIT ?`,
		conversationID, before, limit+1)
	if err != nil {
		return MessagePage{}, fmt.Errorf("messages of conversation %d: %w", conversationID, err)
	}
	defer rows.Close()
	var out []Message
	for rows.Next() {
		m, err := scanMessage(rows)
		if err != nil {
			return MessagePage{}, fmt.Errorf("messages of conversation %d: %w", conversationID, err)
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return MessagePage{}, fmt.Errorf("messages of conversation %d: %w", conversationID, err)
	}
	page := MessagePage{Messages: []Message{}}
	if len(out) > limit {
		out, page.More = out[:limit], true
	}
	for i := len(out) - 1; i >= 0; i-- {
		page.Messages = append(page.Messages, out[i])
	}
	return page, nil
}

// LineUserID returns the LINE user of a conversation; ErrNotFound if there
// is no such conversation.
func (ib *Inbox) LineUserID(ctx context.Context, conversationID int64) (string, error) {
	var user string
	err := ib.db.Reader().QueryRowContext(ctx, `SELECT line_user_id FROM conversations WHERE id = ?`, conversationID).Scan(&user)
	if errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("conversation %d: %w", conversationID, ErrNotFound)
	}
	if err != nil {
		return "", fmt.Errorf("conversation %d: %w", conversationID, err)
	}
	return user, nil
}
