// Package audit is Tsunagu's append-only, hash-chained audit trail.
//
// Every sensitive action is recorded with [Record] inside the same database
// transaction as the change it describes, so the trail and the data can never
// disagree: either both are committed or neither is.
//
// Each entry stores the SHA-256 of the previous entry's hash and its own
// fields. Editing, deleting or reordering an entry breaks the chain from that
// point on, and [Verify] names the first broken entry. The chain is not a
// signature: someone who holds the database key and rewrites the whole tail
// consistently is caught only by comparing with an earlier head hash (printed
// by `tsunagu-cli audit verify`, kept in backups). See docs/security.md.
//
// Entries never hold secrets or customer data: targets are IDs, details are
// small JSON objects of non-personal facts.
package audit

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Genesis is the prev_hash of the first entry.
const Genesis = "0000000000000000000000000000000000000000000000000000000000000000"

// Actions recorded by Tsunagu. Features may add their own ("feature.verb").
const (
	ActionSignIn           = "auth.signin"
	ActionSignInFailed     = "auth.signin_failed"
	ActionSignOut          = "auth.signout"
	ActionLocked           = "auth.locked"     // idle auto-lock
	ActionUnlocked         = "auth.unlocked"   // password re-entered
	ActionLockedOut        = "auth.locked_out" // too many failures
	ActionFirstAdmin       = "staff.first_admin"
	ActionStaffCreate      = "staff.create"
	ActionStaffRole        = "staff.role"
	ActionStaffDeactivate  = "staff.deactivate"
	ActionStaffReactivate  = "staff.reactivate"
	ActionStaffPassword    = "staff.password"
	ActionSettings         = "settings.change"
	ActionChannelSet       = "channel.set"
	ActionChannelClear     = "channel.clear"
	ActionMessageSend      = "message.send"
	ActionMessageRetry     = "message.retry"
	ActionConversationView = "conversation.view"
	ActionExport           = "audit.export"
	ActionBackupCreate     = "backup.create"
	ActionBackupRestore    = "backup.restore"
	ActionRecoveryCreate   = "recovery.create"
	ActionRecoveryRestore  = "recovery.restore"
	ActionKeyRotate        = "db.key_rotate"
	ActionErase            = "data.erase"
	ActionRetention        = "data.retention"
	ActionDenied           = "access.denied" // a call the role may not make
	// A webhook event kept as a dead letter, processed again or closed
	// without storing it.
	ActionDeadLetterReprocess = "deadletter.reprocess"
	ActionDeadLetterDiscard   = "deadletter.discard"
	// The webhook relay: enrolled (target the tenant, detail the relay),
	// disconnected, the channel's webhook URL set on LINE to the relay's.
	ActionRelayEnroll     = "relay.enroll"
	ActionRelayDisconnect = "relay.disconnect"
	ActionRelayWebhook    = "relay.webhook_set"
	// The sandbox's control API was opened (engine/sandboxcontrol.go).
	ActionSandboxControl = "sandbox.control"
)

// Entry is one audited action.
type Entry struct {
	Seq      int64             `json:"seq"`
	At       int64             `json:"at"` // unix ms
	Actor    string            `json:"actor"`
	Action   string            `json:"action"`
	Target   string            `json:"target"`
	Detail   map[string]string `json:"detail,omitempty"`
	PrevHash string            `json:"prevHash"`
	Hash     string            `json:"hash"`
}

// Actor names for entries.
func StaffActor(login string) string { return "staff:" + login }

// OSActor is the actor of a tsunagu-cli command run by an OS user.
func OSActor(user string) string { return "os:" + user }

// RecoveryActor is the actor of a database key restored in the window from
// the recovery code, before anyone could sign in: whoever held the code,
// at the OS account user.
func RecoveryActor(user string) string { return "recovery:" + user }

// SystemActor is the actor of scheduled work (backups, retention).
const SystemActor = "system"

// seatKey is the context key of the seat PC a call came from.
type seatKey struct{}

// WithSeat marks ctx as a call from the seat PC named seat (issue 18):
// every entry recorded with it names the seat beside the staff member
// (detail "seat", inside the hash like the rest). "" is this PC.
func WithSeat(ctx context.Context, seat string) context.Context {
	if seat == "" {
		return ctx
	}
	return context.WithValue(ctx, seatKey{}, seat)
}

// SeatOf is the seat ctx was marked with, "" for this PC.
func SeatOf(ctx context.Context) string {
	s, _ := ctx.Value(seatKey{}).(string)
	return s
}

// DetailSeat is the detail key naming the seat PC an action came from.
const DetailSeat = "seat"

// Record appends e to the trail inside tx. At defaults to now; Seq and the
// hashes are filled in. Call it in the transaction that makes the change.
func Record(ctx context.Context, tx *sql.Tx, e Entry) (Entry, error) {
	if e.Actor == "" || e.Action == "" {
		return Entry{}, errors.New("audit: actor and action are required")
	}
	if e.At == 0 {
		e.At = time.Now().UnixMilli()
	}
	var prevSeq int64
	var prev string
	err := tx.QueryRowContext(ctx, `SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1`).Scan(&prevSeq, &prev)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		prev = Genesis
	case err != nil:
		return Entry{}, fmt.Errorf("audit: read chain head: %w", err)
	}
	e.Seq = prevSeq + 1
	e.PrevHash = prev
	if seat := SeatOf(ctx); seat != "" {
		d := make(map[string]string, len(e.Detail)+1)
		for k, v := range e.Detail {
			d[k] = v
		}
		d[DetailSeat] = seat
		e.Detail = d
	}
	detail, err := encodeDetail(e.Detail)
	if err != nil {
		return Entry{}, err
	}
	e.Hash = hashEntry(e, detail)
	if _, err := tx.ExecContext(ctx,
		`INSERT INTO audit_log(seq, at, actor, action, target, detail, prev_hash, hash) VALUES (?,?,?,?,?,?,?,?)`,
		e.Seq, e.At, e.Actor, e.Action, e.Target, detail, e.PrevHash, e.Hash); err != nil {
		return Entry{}, fmt.Errorf("audit: append %s: %w", e.Action, err)
	}
	return e, nil
}

// encodeDetail is deterministic: encoding/json sorts map keys.
func encodeDetail(d map[string]string) (string, error) {
	if len(d) == 0 {
		return "", nil
	}
	b, err := json.Marshal(d)
	if err != nil {
		return "", fmt.Errorf("audit: encode detail: %w", err)
	}
	return string(b), nil
}

// hashEntry hashes the previous hash and every field, each length-prefixed so
// that no two different entries encode the same.
func hashEntry(e Entry, detail string) string {
	h := sha256.New()
	for _, f := range []string{e.PrevHash, strconv.FormatInt(e.Seq, 10), strconv.FormatInt(e.At, 10), e.Actor, e.Action, e.Target, detail} {
		fmt.Fprintf(h, "%d:%s;", len(f), f)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Report is the result of Verify.
type Report struct {
	Entries  int64  `json:"entries"`
	Head     string `json:"head"` // hash of the last entry (Genesis if none)
	OK       bool   `json:"ok"`
	BrokenAt int64  `json:"brokenAt,omitempty"` // seq of the first broken entry
	Reason   string `json:"reason,omitempty"`
}

// Verify walks the whole chain and reports the first entry whose hash, link
// or sequence number is wrong. A broken chain is a Report with OK false, not
// an error; the error is for failing to read.
func Verify(ctx context.Context, q Querier) (Report, error) {
	rows, err := q.QueryContext(ctx, `SELECT seq, at, actor, action, target, detail, prev_hash, hash FROM audit_log ORDER BY seq`)
	if err != nil {
		return Report{}, fmt.Errorf("audit: verify: %w", err)
	}
	defer rows.Close()
	rep := Report{Head: Genesis, OK: true}
	prev, want := Genesis, int64(1)
	for rows.Next() {
		var e Entry
		var detail string
		if err := rows.Scan(&e.Seq, &e.At, &e.Actor, &e.Action, &e.Target, &detail, &e.PrevHash, &e.Hash); err != nil {
			return Report{}, fmt.Errorf("audit: verify: %w", err)
		}
		rep.Entries++
		switch {
		case e.Seq != want:
			rep.OK, rep.BrokenAt, rep.Reason = false, e.Seq, fmt.Sprintf("entry %d is missing (found %d next)", want, e.Seq)
		case e.PrevHash != prev:
			rep.OK, rep.BrokenAt, rep.Reason = false, e.Seq, "does not link to the previous entry (an entry before it was changed or removed)"
		case hashEntry(e, detail) != e.Hash:
			rep.OK, rep.BrokenAt, rep.Reason = false, e.Seq, "its content does not match its hash (the entry was changed)"
		}
		if !rep.OK {
			return rep, rows.Err()
		}
		prev, want = e.Hash, want+1
		rep.Head = e.Hash
	}
	return rep, rows.Err()
}

// Querier is a *sql.DB or *sql.Tx.
type Querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// Filter selects entries for the viewer and export. Zero fields match all.
type Filter struct {
	Actor  string `json:"actor"`  // exact
	Action string `json:"action"` // exact, or a prefix ending in "." (e.g. "auth.")
	Target string `json:"target"` // exact
	From   int64  `json:"from"`   // unix ms, inclusive
	To     int64  `json:"to"`     // unix ms, exclusive
	Limit  int    `json:"limit"`  // 0: 500; newest first
	Before int64  `json:"before"` // seq: only entries older than this (paging)
}

// List returns entries matching f, newest first, at most f.Limit (at most
// 10,000) of them: for the viewer's pages. An export uses BeginExport,
// which has no limit.
func List(ctx context.Context, q Querier, f Filter) ([]Entry, error) {
	where, args := f.where()
	if f.Before > 0 {
		where, args = append(where, "seq < ?"), append(args, f.Before)
	}
	limit := f.Limit
	if limit <= 0 || limit > 10000 {
		limit = 500
	}
	query := `SELECT seq, at, actor, action, target, detail, prev_hash, hash FROM audit_log`
	if len(where) > 0 {
		query += " WHERE " + strings.Join(where, " AND ")
	}
	query += " ORDER BY seq DESC LIMIT " + strconv.Itoa(limit)
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("audit: list: %w", err)
	}
	defer rows.Close()
	out := []Entry{}
	for rows.Next() {
		e, err := scanEntry(rows)
		if err != nil {
			return nil, fmt.Errorf("audit: list: %w", err)
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// where is f's conditions on actor, action, target and time (not Limit or
// Before, which only paging uses).
func (f Filter) where() ([]string, []any) {
	var where []string
	var args []any
	if f.Actor != "" {
		where, args = append(where, "actor = ?"), append(args, f.Actor)
	}
	if strings.HasSuffix(f.Action, ".") {
		where, args = append(where, "substr(action, 1, ?) = ?"), append(args, len(f.Action), f.Action)
	} else if f.Action != "" {
		where, args = append(where, "action = ?"), append(args, f.Action)
	}
	if f.Target != "" {
		where, args = append(where, "target = ?"), append(args, f.Target)
	}
	if f.From > 0 {
		where, args = append(where, "at >= ?"), append(args, f.From)
	}
	if f.To > 0 {
		where, args = append(where, "at < ?"), append(args, f.To)
	}
	return where, args
}

// scanEntry reads one row of the columns List and exports select.
func scanEntry(rows *sql.Rows) (Entry, error) {
	var e Entry
	var detail string
	if err := rows.Scan(&e.Seq, &e.At, &e.Actor, &e.Action, &e.Target, &detail, &e.PrevHash, &e.Hash); err != nil {
		return Entry{}, err
	}
	if detail != "" {
		if err := json.Unmarshal([]byte(detail), &e.Detail); err != nil {
			return Entry{}, fmt.Errorf("entry %d detail: %w", e.Seq, err)
		}
	}
	return e, nil
}
