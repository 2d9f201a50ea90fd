// Package primary is the primary's (親機) side of branch seats: the seat
// registry in the encrypted database (one-time codes, pinned seat keys,
// revocation, all audited in the transaction of the change) and the mutual
// TLS listener seats connect to (server.go).
package primary

import (
	"context"
	"crypto/x509"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"tsunagu/internal/audit"
	"tsunagu/internal/seat"
	"tsunagu/internal/store"
)

// Audit actions of the seat registry.
const (
	ActionSeatCode       = "seat.code"         // a code issued (target the seat's name)
	ActionSeatPair       = "seat.pair"         // a seat paired with a code
	ActionSeatPairFailed = "seat.pair_refused" // a code refused (wrong, used, expired, paused)
	ActionSeatRevoke     = "seat.revoke"       // a seat revoked
)

var (
	// ErrNameTaken: another seat that is not revoked has this name.
	ErrNameTaken = errors.New("a seat with this name is already paired: choose another name or revoke that seat first")
	// ErrBadName: empty, too long or with control characters.
	ErrBadName = errors.New("a seat name must be 1 to 40 characters, without line breaks (e.g. 窓口2)")
	// ErrNoSeat: no seat of that name (or it is already revoked).
	ErrNoSeat = errors.New("no paired seat has this name")
)

// maxNameLen is in characters: a name shows in the header of a seat's window.
const maxNameLen = 40

// Seat is a paired seat as the registry lists it.
type Seat struct {
	ID            int64            `json:"-"` // internal; people name seats by name
	Name          string           `json:"name"`
	Fingerprint   seat.Fingerprint `json:"-"`
	Short         string           `json:"fingerprint"` // the short fingerprint
	CreatedAt     time.Time        `json:"createdAt"`
	LastContactAt *time.Time       `json:"lastContactAt,omitempty"`
	RevokedAt     *time.Time       `json:"revokedAt,omitempty"`
	RevokedBy     string           `json:"revokedBy,omitempty"`
}

// Code is an issued seat code: shown once, with the primary's fingerprint.
type Code struct {
	Code      string    `json:"code"`
	Name      string    `json:"name"`
	ExpiresAt time.Time `json:"expiresAt"`
}

// Registry is the seat registry of one data folder.
type Registry struct {
	db    *store.DB
	clock func() time.Time
}

// NewRegistry returns the registry over db; clock nil means time.Now.
func NewRegistry(db *store.DB, clock func() time.Time) *Registry {
	if clock == nil {
		clock = time.Now
	}
	return &Registry{db: db, clock: clock}
}

func checkName(name string) (string, error) {
	name = strings.TrimSpace(name)
	if name == "" || utf8.RuneCountInString(name) > maxNameLen || strings.ContainsFunc(name, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return "", ErrBadName
	}
	return name, nil
}

// IssueCode makes a one-time code for a new seat called name, valid for
// seat.CodeValidity; audited as seat.code under actor.
func (r *Registry) IssueCode(ctx context.Context, actor, name string) (Code, error) {
	name, err := checkName(name)
	if err != nil {
		return Code{}, err
	}
	code, err := seat.NewCode()
	if err != nil {
		return Code{}, err
	}
	hash, err := seat.HashCode(code)
	if err != nil {
		return Code{}, fmt.Errorf("hash new seat code: %w", err)
	}
	now := r.clock()
	exp := now.Add(seat.CodeValidity)
	err = r.db.Write(ctx, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM seats WHERE name = ? AND revoked_at IS NULL`, name).Scan(&n); err != nil {
			return fmt.Errorf("check seat name: %w", err)
		}
		if n > 0 {
			return ErrNameTaken
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO seat_codes(code_hash, seat_name, created_by, created_at, expires_at) VALUES (?,?,?,?,?)`,
			hash, name, actor, now.UnixMilli(), exp.UnixMilli())
		if err != nil {
			return fmt.Errorf("store seat code: %w", err)
		}
		id, _ := res.LastInsertId()
		_, err = audit.Record(ctx, tx, audit.Entry{At: now.UnixMilli(), Actor: actor, Action: ActionSeatCode, Target: "seat:" + name,
			Detail: map[string]string{"codeId": strconv.FormatInt(id, 10), "expiresAt": exp.UTC().Format(time.RFC3339)}})
		return err
	})
	if err != nil {
		return Code{}, fmt.Errorf("issue seat code for %q: %w", name, err)
	}
	return Code{Code: code, Name: name, ExpiresAt: exp}, nil
}

// Pair redeems code for the seat whose certificate is cert: the code is
// used up and the seat's key pinned under the code's name, audited as
// seat.pair, in one transaction. A refused code (wrong, used, expired) is
// audited as seat.pair_refused with the reason and from where.
func (r *Registry) Pair(ctx context.Context, code string, cert *x509.Certificate, remote string) (Seat, error) {
	now := r.clock()
	fp := seat.FingerprintOf(cert)
	hash, herr := seat.HashCode(code)
	var out Seat
	var refused error
	err := r.db.Write(ctx, func(tx *sql.Tx) error {
		refused = herr
		var (
			codeID       int64
			name, issuer string
			expires      int64
			used         sql.NullInt64
		)
		if refused == nil {
			err := tx.QueryRowContext(ctx, `SELECT id, seat_name, created_by, expires_at, used_at FROM seat_codes WHERE code_hash = ?`, hash).
				Scan(&codeID, &name, &issuer, &expires, &used)
			switch {
			case errors.Is(err, sql.ErrNoRows):
				refused = seat.ErrCodeWrong
			case err != nil:
				return fmt.Errorf("look up seat code: %w", err)
			case used.Valid:
				refused = seat.ErrCodeUsed
			case now.UnixMilli() >= expires:
				refused = seat.ErrCodeExpired
			}
		}
		if refused != nil {
			// Recorded (and committed) although the pairing fails: wrong codes
			// are what an attack looks like.
			target := "" // a wrong code names no seat
			if name != "" {
				target = "seat:" + name
			}
			_, err := audit.Record(ctx, tx, audit.Entry{At: now.UnixMilli(), Actor: audit.SystemActor, Action: ActionSeatPairFailed,
				Target: target, Detail: map[string]string{"reason": refusedReason(refused), "remote": remote}})
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE seat_codes SET used_at = ? WHERE id = ?`, now.UnixMilli(), codeID); err != nil {
			return fmt.Errorf("use seat code: %w", err)
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO seats(name, key_fingerprint, public_key, code_id, created_at, last_contact_at) VALUES (?,?,?,?,?,?)`,
			name, fp.String(), cert.RawSubjectPublicKeyInfo, codeID, now.UnixMilli(), now.UnixMilli())
		switch {
		case store.IsUnique(err):
			// The name was taken after the code was issued, or this key is
			// already paired: either way this code cannot pair.
			return ErrNameTaken
		case err != nil:
			return fmt.Errorf("pin seat key: %w", err)
		}
		id, _ := res.LastInsertId()
		// The seat acts with the authority of whoever issued its code.
		if _, err := audit.Record(ctx, tx, audit.Entry{At: now.UnixMilli(), Actor: issuer, Action: ActionSeatPair, Target: "seat:" + name,
			Detail: map[string]string{"fingerprint": fp.Short(), "codeId": strconv.FormatInt(codeID, 10), "remote": remote}}); err != nil {
			return err
		}
		t := now
		out = Seat{ID: id, Name: name, Fingerprint: fp, Short: fp.Short(), CreatedAt: now, LastContactAt: &t}
		return nil
	})
	if err != nil {
		return Seat{}, fmt.Errorf("pair seat: %w", err)
	}
	if refused != nil {
		return Seat{}, fmt.Errorf("pair seat: %w", refused)
	}
	return out, nil
}

func refusedReason(err error) string {
	switch {
	case errors.Is(err, seat.ErrCodeUsed):
		return "code_used"
	case errors.Is(err, seat.ErrCodeExpired):
		return "code_expired"
	default:
		return "code_wrong"
	}
}

// Active returns the seat pinned to fp if it is not revoked
// (ErrNoSeat otherwise). It is asked at every handshake.
func (r *Registry) Active(ctx context.Context, fp seat.Fingerprint) (Seat, error) {
	rows, err := r.db.Reader().QueryContext(ctx, selectSeat+` WHERE key_fingerprint = ? AND revoked_at IS NULL`, fp.String())
	if err != nil {
		return Seat{}, fmt.Errorf("look up seat: %w", err)
	}
	list, err := scanSeats(rows)
	if err != nil {
		return Seat{}, err
	}
	if len(list) == 0 {
		return Seat{}, ErrNoSeat
	}
	return list[0], nil
}

// List returns every seat, revoked ones too, by name.
func (r *Registry) List(ctx context.Context) ([]Seat, error) {
	rows, err := r.db.Reader().QueryContext(ctx, selectSeat+` ORDER BY revoked_at IS NOT NULL, name, id`)
	if err != nil {
		return nil, fmt.Errorf("list seats: %w", err)
	}
	return scanSeats(rows)
}

// Revoke ends the seat called name: refused from its next handshake on
// (the listener also closes its open connections); audited as seat.revoke.
func (r *Registry) Revoke(ctx context.Context, actor, name string) (Seat, error) {
	now := r.clock()
	var s Seat
	err := r.db.Write(ctx, func(tx *sql.Tx) error {
		var fp string
		err := tx.QueryRowContext(ctx, `SELECT id, key_fingerprint FROM seats WHERE name = ? AND revoked_at IS NULL`, strings.TrimSpace(name)).Scan(&s.ID, &fp)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNoSeat
		}
		if err != nil {
			return fmt.Errorf("find seat: %w", err)
		}
		if s.Fingerprint, err = seat.ParseFingerprint(fp); err != nil {
			return fmt.Errorf("seat %d: stored fingerprint: %w", s.ID, err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE seats SET revoked_at = ?, revoked_by = ? WHERE id = ?`, now.UnixMilli(), actor, s.ID); err != nil {
			return fmt.Errorf("revoke seat: %w", err)
		}
		_, err = audit.Record(ctx, tx, audit.Entry{At: now.UnixMilli(), Actor: actor, Action: ActionSeatRevoke, Target: "seat:" + strings.TrimSpace(name),
			Detail: map[string]string{"fingerprint": s.Fingerprint.Short()}})
		return err
	})
	if err != nil {
		return Seat{}, fmt.Errorf("revoke seat %q: %w", name, err)
	}
	s.Name, s.Short, s.RevokedAt, s.RevokedBy = strings.TrimSpace(name), s.Fingerprint.Short(), &now, actor
	return s, nil
}

// Revoked returns which of fps are no longer active seats (revoked, or
// gone): the listener asks every moment for the seats it has connected,
// so a revocation made by another program (tsunagu-cli) closes them too.
func (r *Registry) Revoked(ctx context.Context, fps []seat.Fingerprint) ([]seat.Fingerprint, error) {
	var out []seat.Fingerprint
	for _, fp := range fps {
		var n int
		if err := r.db.Reader().QueryRowContext(ctx, `SELECT count(*) FROM seats WHERE key_fingerprint = ? AND revoked_at IS NULL`, fp.String()).Scan(&n); err != nil {
			return nil, fmt.Errorf("check seat: %w", err)
		}
		if n == 0 {
			out = append(out, fp)
		}
	}
	return out, nil
}

// Touch records that the seat was in contact now.
func (r *Registry) Touch(ctx context.Context, id int64) error {
	return r.db.Write(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE seats SET last_contact_at = ? WHERE id = ?`, r.clock().UnixMilli(), id); err != nil {
			return fmt.Errorf("record seat contact: %w", err)
		}
		return nil
	})
}

const selectSeat = `SELECT id, name, key_fingerprint, created_at, last_contact_at, revoked_at, coalesce(revoked_by, '') FROM seats`

func scanSeats(rows *sql.Rows) ([]Seat, error) {
	defer rows.Close()
	var out []Seat
	for rows.Next() {
		var (
			s             Seat
			fp            string
			created       int64
			last, revoked sql.NullInt64
		)
		if err := rows.Scan(&s.ID, &s.Name, &fp, &created, &last, &revoked, &s.RevokedBy); err != nil {
			return nil, fmt.Errorf("read seat: %w", err)
		}
		var err error
		if s.Fingerprint, err = seat.ParseFingerprint(fp); err != nil {
			return nil, fmt.Errorf("seat %d: stored fingerprint: %w", s.ID, err)
		}
		s.Short = s.Fingerprint.Short()
		s.CreatedAt = time.UnixMilli(created)
		if last.Valid {
			t := time.UnixMilli(last.Int64)
			s.LastContactAt = &t
		}
		if revoked.Valid {
			t := time.UnixMilli(revoked.Int64)
			s.RevokedAt = &t
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read seats: %w", err)
	}
	return out, nil
}
