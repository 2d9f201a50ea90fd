package inbox

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"tsunagu/internal/audit"
	"tsunagu/internal/auth"
	"tsunagu/internal/fielderr"
)

// Audit actions of the inbox's own work (the audit trail holds IDs and
// states, never note or reply text).
const (
	ActionAssign       = "conversation.assign"
	ActionStatus       = "conversation.status"
	ActionNoteAdd      = "conversation.note_add"
	ActionNoteDelete   = "conversation.note_delete"
	ActionCannedSave   = "canned_reply.save"
	ActionCannedDelete = "canned_reply.delete"
)

// More errors a caller can act on.
var (
	ErrBadStatus   = errors.New("inbox: status must be open, pending or closed")
	ErrBadAssignee = errors.New("inbox: assignee is not an active staff member who may reply")
	ErrNotAuthor   = errors.New("inbox: only the author may delete a note")
	ErrTooLongNote = errors.New("inbox: note is longer than 2,000 characters")
	ErrBadCanned   = errors.New("inbox: a canned reply needs a title (≤ 60) and a text (≤ 5,000)")
)

// Staff is who does something in the inbox: their audit actor, staff ID and
// display name.
type Staff struct {
	ID    int64
	Actor string
	Name  string
}

func (ib *Inbox) audit(ctx context.Context, tx *sql.Tx, actor, action string, convID int64, detail map[string]string) error {
	target := ""
	if convID != 0 {
		target = "conversation:" + strconv.FormatInt(convID, 10)
	}
	_, err := audit.Record(ctx, tx, audit.Entry{At: ib.now().UnixMilli(), Actor: actor, Action: action, Target: target, Detail: detail})
	return err
}

// Assignee is a staff member a conversation can be assigned to.
type Assignee struct {
	ID          int64  `json:"id"`
	DisplayName string `json:"displayName"`
}

// Assignees lists the active staff whose role may reply, by name.
func (ib *Inbox) Assignees(ctx context.Context) ([]Assignee, error) {
	rows, err := ib.db.Reader().QueryContext(ctx, `SELECT id, display_name, role FROM staff WHERE active = 1 ORDER BY display_name, id`)
	if err != nil {
		return nil, fmt.Errorf("assignees: %w", err)
	}
	defer rows.Close()
	out := []Assignee{}
	for rows.Next() {
		var (
			a    Assignee
			role string
		)
		if err := rows.Scan(&a.ID, &a.DisplayName, &role); err != nil {
			return nil, fmt.Errorf("assignees: %w", err)
		}
		if auth.Role(role).Allows(auth.PermInboxReply) {
			out = append(out, a)
		}
	}
	return out, rows.Err()
}

// Assign gives the conversation to staff member staffID (0: nobody). It is
// audited with the old and new assignee's IDs.
func (ib *Inbox) Assign(ctx context.Context, by Staff, conversationID, staffID int64) error {
	err := ib.db.Write(ctx, func(tx *sql.Tx) error {
		var old sql.NullInt64
		err := tx.QueryRowContext(ctx, `SELECT assignee_id FROM conversations WHERE id = ?`, conversationID).Scan(&old)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		var to any
		if staffID != 0 {
			var (
				role   string
				active bool
			)
			err := tx.QueryRowContext(ctx, `SELECT role, active FROM staff WHERE id = ?`, staffID).Scan(&role, &active)
			if errors.Is(err, sql.ErrNoRows) || err == nil && (!active || !auth.Role(role).Allows(auth.PermInboxReply)) {
				return ErrBadAssignee
			}
			if err != nil {
				return err
			}
			to = staffID
		}
		if old.Int64 == staffID {
			return nil
		}
		if _, err := tx.ExecContext(ctx, `UPDATE conversations SET assignee_id = ?, assigned_at = ? WHERE id = ?`,
			to, ib.now().UnixMilli(), conversationID); err != nil {
			return err
		}
		return ib.audit(ctx, tx, by.Actor, ActionAssign, conversationID, map[string]string{
			"from": strconv.FormatInt(old.Int64, 10), "to": strconv.FormatInt(staffID, 10)})
	})
	if err != nil {
		return fmt.Errorf("assign conversation %d: %w", conversationID, err)
	}
	ib.notify(conversationID)
	return nil
}

// SetStatus moves a conversation to open, pending or closed, audited with
// the old and new status. A new message from the customer reopens a closed
// conversation.
func (ib *Inbox) SetStatus(ctx context.Context, by Staff, conversationID int64, status string) error {
	switch status {
	case "open", "pending", "closed":
	default:
		return ErrBadStatus
	}
	err := ib.db.Write(ctx, func(tx *sql.Tx) error {
		var old string
		err := tx.QueryRowContext(ctx, `SELECT status FROM conversations WHERE id = ?`, conversationID).Scan(&old)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil || old == status {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE conversations SET status = ? WHERE id = ?`, status, conversationID); err != nil {
			return err
		}
		return ib.audit(ctx, tx, by.Actor, ActionStatus, conversationID, map[string]string{"from": old, "to": status})
	})
	if err != nil {
		return fmt.Errorf("set status of conversation %d: %w", conversationID, err)
	}
	ib.notify(conversationID)
	return nil
}

// Note is an internal note on a conversation: staff only, never sent.
type Note struct {
	ID             int64  `json:"id"`
	ConversationID int64  `json:"conversationId"`
	AuthorID       int64  `json:"authorId"`
	AuthorName     string `json:"authorName"`
	Body           string `json:"body"`
	CreatedAt      int64  `json:"createdAt"`
}

// MaxNoteLength is the longest note, in characters.
const MaxNoteLength = 2000

// Notes returns a conversation's notes, oldest first.
func (ib *Inbox) Notes(ctx context.Context, conversationID int64) ([]Note, error) {
	rows, err := ib.db.Reader().QueryContext(ctx, `
		SELECT id, conversation_id, COALESCE(author_id, 0), author_name, body, created_at
		FROM conversation_notes WHERE conversation_id = ? ORDER BY id`, conversationID)
	if err != nil {
		return nil, fmt.Errorf("notes of conversation %d: %w", conversationID, err)
	}
	defer rows.Close()
	out := []Note{}
	for rows.Next() {
		var n Note
		if err := rows.Scan(&n.ID, &n.ConversationID, &n.AuthorID, &n.AuthorName, &n.Body, &n.CreatedAt); err != nil {
			return nil, fmt.Errorf("notes of conversation %d: %w", conversationID, err)
		}
		out = append(out, n)
	}
	return out, rows.Err()
}

// AddNote stores a note by staff member by; audited with its ID (never its
// text). Nothing is sent to LINE.
func (ib *Inbox) AddNote(ctx context.Context, by Staff, conversationID int64, body string) (Note, error) {
	body = strings.TrimSpace(body)
	if body == "" {
		return Note{}, ErrEmpty
	}
	if len([]rune(body)) > MaxNoteLength {
		return Note{}, ErrTooLongNote
	}
	n := Note{ConversationID: conversationID, AuthorID: by.ID, AuthorName: by.Name, Body: body, CreatedAt: ib.now().UnixMilli()}
	err := ib.db.Write(ctx, func(tx *sql.Tx) error {
		var exists int
		err := tx.QueryRowContext(ctx, `SELECT 1 FROM conversations WHERE id = ?`, conversationID).Scan(&exists)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		var author any
		if by.ID != 0 {
			author = by.ID
		}
		res, err := tx.ExecContext(ctx, `
			INSERT INTO conversation_notes (conversation_id, author_id, author_name, body, created_at) VALUES (?, ?, ?, ?, ?)`,
			conversationID, author, by.Name, body, n.CreatedAt)
		if err != nil {
			return err
		}
		if n.ID, err = res.LastInsertId(); err != nil {
			return err
		}
		return ib.audit(ctx, tx, by.Actor, ActionNoteAdd, conversationID, map[string]string{"note": strconv.FormatInt(n.ID, 10)})
	})
	if err != nil {
		return Note{}, fmt.Errorf("add note to conversation %d: %w", conversationID, err)
	}
	ib.notify(conversationID)
	return n, nil
}

// DeleteNote removes a note; only its author may. Audited.
func (ib *Inbox) DeleteNote(ctx context.Context, by Staff, noteID int64) error {
	var convID int64
	err := ib.db.Write(ctx, func(tx *sql.Tx) error {
		var author sql.NullInt64
		err := tx.QueryRowContext(ctx, `SELECT conversation_id, author_id FROM conversation_notes WHERE id = ?`, noteID).Scan(&convID, &author)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		if !author.Valid || author.Int64 != by.ID {
			return ErrNotAuthor
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM conversation_notes WHERE id = ?`, noteID); err != nil {
			return err
		}
		return ib.audit(ctx, tx, by.Actor, ActionNoteDelete, convID, map[string]string{"note": strconv.FormatInt(noteID, 10)})
	})
	if err != nil {
		return fmt.Errorf("delete note %d: %w", noteID, err)
	}
	ib.notify(convID)
	return nil
}

// --- canned replies and variables ---

// Variables of canned replies (and auto-replies).
const (
	VarName  = "{氏名}"  // the linked customer's name, else the LINE display name
	VarStaff = "{担当者}" // the staff member sending
)

// UnknownName is what {氏名} becomes when no name is known, so that the
// usual "{氏名}様" still reads お客様.
const UnknownName = "お客"

// Expand replaces the variables in text with vars (variable → value).
func Expand(text string, vars map[string]string) string {
	for k, v := range vars {
		text = strings.ReplaceAll(text, k, v)
	}
	return text
}

// CustomerName is what {氏名} stands for in a conversation with lineUserID:
// the linked customer's name, else the LINE display name, else UnknownName.
func CustomerName(ctx context.Context, q interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}, lineUserID string) (string, error) {
	var name string
	err := q.QueryRowContext(ctx, `
		SELECT COALESCE(NULLIF(cu.name, ''), u.display_name, '') FROM line_users u
		LEFT JOIN customer_line_links l ON l.line_user_id = u.user_id
		LEFT JOIN customers cu ON cu.id = l.customer_id
		WHERE u.user_id = ?`, lineUserID).Scan(&name)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("customer name: %w", err)
	}
	if strings.TrimSpace(name) == "" {
		name = UnknownName
	}
	return name, nil
}

// The limits of a canned reply, in characters.
const (
	MaxCannedTitle = 60
	MaxCannedBody  = 5000
)

// CannedReply is a text staff insert in the composer.
type CannedReply struct {
	ID        int64  `json:"id"`
	Title     string `json:"title"`
	Body      string `json:"body"`
	Sort      int    `json:"sort"`
	UpdatedAt int64  `json:"updatedAt"`
}

// CannedReplies lists the canned replies in their order.
func (ib *Inbox) CannedReplies(ctx context.Context) ([]CannedReply, error) {
	rows, err := ib.db.Reader().QueryContext(ctx, `SELECT id, title, body, sort, updated_at FROM canned_replies ORDER BY sort, id`)
	if err != nil {
		return nil, fmt.Errorf("canned replies: %w", err)
	}
	defer rows.Close()
	out := []CannedReply{}
	for rows.Next() {
		var c CannedReply
		if err := rows.Scan(&c.ID, &c.Title, &c.Body, &c.Sort, &c.UpdatedAt); err != nil {
			return nil, fmt.Errorf("canned replies: %w", err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// SaveCannedReply creates (ID 0) or updates a canned reply; audited.
func (ib *Inbox) SaveCannedReply(ctx context.Context, actor string, c CannedReply) (CannedReply, error) {
	c.Title, c.Body = strings.TrimSpace(c.Title), strings.TrimSpace(c.Body)
	// Both fields at once, by their JSON names, for the editor to mark.
	var l fielderr.List
	if c.Title == "" {
		l.Add("title", fielderr.Required)
	} else if len([]rune(c.Title)) > MaxCannedTitle {
		l.AddMax("title", fielderr.TooLong, MaxCannedTitle)
	}
	if c.Body == "" {
		l.Add("body", fielderr.Required)
	} else if len([]rune(c.Body)) > MaxCannedBody {
		l.AddMax("body", fielderr.TooLong, MaxCannedBody)
	}
	if err := l.Err(ErrBadCanned); err != nil {
		return CannedReply{}, err
	}
	now := ib.now().UnixMilli()
	c.UpdatedAt = now
	err := ib.db.Write(ctx, func(tx *sql.Tx) error {
		if c.ID == 0 {
			res, err := tx.ExecContext(ctx, `INSERT INTO canned_replies (title, body, sort, created_at, updated_at) VALUES (?, ?, ?, ?, ?)`,
				c.Title, c.Body, c.Sort, now, now)
			if err != nil {
				return err
			}
			if c.ID, err = res.LastInsertId(); err != nil {
				return err
			}
		} else {
			res, err := tx.ExecContext(ctx, `UPDATE canned_replies SET title = ?, body = ?, sort = ?, updated_at = ? WHERE id = ?`,
				c.Title, c.Body, c.Sort, now, c.ID)
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n == 0 {
				return ErrNotFound
			}
		}
		return ib.audit(ctx, tx, actor, ActionCannedSave, 0, map[string]string{"canned_reply": strconv.FormatInt(c.ID, 10)})
	})
	if err != nil {
		return CannedReply{}, fmt.Errorf("save canned reply: %w", err)
	}
	return c, nil
}

// DeleteCannedReply deletes a canned reply; audited.
func (ib *Inbox) DeleteCannedReply(ctx context.Context, actor string, id int64) error {
	err := ib.db.Write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM canned_replies WHERE id = ?`, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrNotFound
		}
		return ib.audit(ctx, tx, actor, ActionCannedDelete, 0, map[string]string{"canned_reply": strconv.FormatInt(id, 10)})
	})
	if err != nil {
		return fmt.Errorf("delete canned reply %d: %w", id, err)
	}
	return nil
}

// ExpandCannedReply returns canned reply id's text for the conversation,
// with {氏名} and {担当者} (staffName) filled in, for the composer.
func (ib *Inbox) ExpandCannedReply(ctx context.Context, conversationID, id int64, staffName string) (string, error) {
	var body, user string
	err := ib.db.Reader().QueryRowContext(ctx, `SELECT body FROM canned_replies WHERE id = ?`, id).Scan(&body)
	if err == nil {
		err = ib.db.Reader().QueryRowContext(ctx, `SELECT line_user_id FROM conversations WHERE id = ?`, conversationID).Scan(&user)
	}
	if errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("canned reply %d for conversation %d: %w", id, conversationID, ErrNotFound)
	}
	if err != nil {
		return "", fmt.Errorf("canned reply %d: %w", id, err)
	}
	name, err := CustomerName(ctx, ib.db.Reader(), user)
	if err != nil {
		return "", err
	}
	return Expand(body, map[string]string{VarName: name, VarStaff: staffName}), nil
}

// RegisterPostbackLabel records what a postback button said (its label) for
// its data, inside the transaction of the feature that sends the button, so
// the thread can show the label when the customer taps it.
func RegisterPostbackLabel(ctx context.Context, tx *sql.Tx, data, label string, at time.Time) error {
	_, err := tx.ExecContext(ctx, `
		INSERT INTO postback_labels (data, label, created_at) VALUES (?, ?, ?)
		ON CONFLICT (data) DO UPDATE SET label = excluded.label`, data, label, at.UnixMilli())
	if err != nil {
		return fmt.Errorf("register postback label: %w", err)
	}
	return nil
}
