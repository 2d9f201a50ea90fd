package engine

import (
	"context"

	"tsunagu/internal/seat"
	"tsunagu/internal/seat/lan"
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

// SeatPort is the configured seat port (lan.DefaultPort unless changed).
func (e *Engine) SeatPort(ctx context.Context) (int, error) { return lan.GetPort(ctx, e.db) }

// RecordSeatFirewall audits that the firewall rule for port was added.
func (e *Engine) RecordSeatFirewall(ctx context.Context, actor string, port int) error {
	return lan.RecordFirewall(ctx, e.db, actor, port)
}

// SetSeatPort changes the seat port; audited as a settings change.
func (e *Engine) SetSeatPort(ctx context.Context, actor string, port int) error {
	return lan.SetPort(ctx, e.db, actor, port)
}
