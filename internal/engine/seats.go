package engine

import (
	"context"

	"tsunagu/internal/seat"
	"tsunagu/internal/seat/primary"
)

// Seats is the seat registry of this data folder: codes, paired seats,
// revocation (package seat/primary).
func (e *Engine) Seats() *primary.Registry { return primary.NewRegistry(e.db, e.now) }

// SeatIdentity is this primary's identity towards its seats: the key in
// the keychain (made on first use, never replaced: seats pin it) and a
// certificate made for it now.
func (e *Engine) SeatIdentity(ctx context.Context) (seat.Identity, error) {
	k, err := e.secrets.PrimaryTLSKey(ctx)
	if err != nil {
		return seat.Identity{}, err
	}
	return seat.NewIdentity(k.PrivateKey(), "Tsunagu primary", e.now())
}
