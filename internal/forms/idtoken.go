package forms

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"tsunagu/internal/line"
)

// The one ID-token check of the pages the relay serves (web forms and the
// booking page, package booking): who the token belongs to, by this
// service's verifier (LINE Login, or the configured one), and one
// submission per token across both, in form_id_tokens.

// CheckIDToken asks who tok belongs to, judging its expiry at receivedAt
// (unix ms), the relay's receipt time: a page's request queued while the
// desktop was off is judged as when it was sent. reason is "" for a good
// token, RejectForged or RejectExpired for a refused one; err is for what
// may pass (LINE's keys unreachable; ErrNoLogin while LINE Login is not set
// up): the caller leaves the request queued.
func (s *Service) CheckIDToken(ctx context.Context, tok string, receivedAt int64) (info line.IDTokenInfo, reason string, err error) {
	verifier, err := s.idTokenVerifier(ctx)
	if err != nil {
		return line.IDTokenInfo{}, "", fmt.Errorf("forms: ID token: %w", err)
	}
	if verifier == nil {
		return line.IDTokenInfo{}, "", ErrNoLogin
	}
	if receivedAt <= 0 { // the relay always stamps its receipt time
		return line.IDTokenInfo{}, RejectForged, nil
	}
	info, err = verifier.VerifyIDToken(ctx, tok, time.UnixMilli(receivedAt))
	if errors.Is(err, line.ErrIDTokenRejected) {
		if errors.Is(err, line.ErrIDTokenExpired) {
			return line.IDTokenInfo{}, RejectExpired, nil
		}
		return line.IDTokenInfo{}, RejectForged, nil
	}
	if err != nil {
		return line.IDTokenInfo{}, "", fmt.Errorf("forms: verify ID token: %w", err)
	}
	return info, "", nil
}

// ClaimIDToken records in tx that tok was used for submitID (kept by hash
// a day past its expiry); replayed is true when another submission used
// it first.
func ClaimIDToken(ctx context.Context, tx *sql.Tx, tok, submitID string, expires time.Time) (replayed bool, err error) {
	hash := tokenHash(tok)
	var prior string
	err = tx.QueryRowContext(ctx, `SELECT submit_id FROM form_id_tokens WHERE token_hash = ?`, hash).Scan(&prior)
	switch {
	case err == nil:
		return prior != submitID, nil
	case !errors.Is(err, sql.ErrNoRows):
		return false, fmt.Errorf("forms: ID token: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO form_id_tokens (token_hash, submit_id, expires_at) VALUES (?, ?, ?)`,
		hash, submitID, expires.Add(24*time.Hour).UnixMilli()); err != nil {
		return false, fmt.Errorf("forms: ID token: %w", err)
	}
	return false, nil
}

// LIFFID is the LIFF app's ID the pages initialise ("" not set up).
func (s *Service) LIFFID(ctx context.Context) string { return s.liff(ctx) }
