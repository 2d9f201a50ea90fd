package facade

// A new installation's first screen offers 「支店の親機に接続する」 besides
// setting up a branch (issue 18): the primaries found on the LAN or a typed
// address, the seat code, then the primary's fingerprint shown large to
// compare with the primary's screen before the code is sent. These methods
// are public like CreateFirstAdmin, and like it only on a fresh
// installation (no staff account, no LINE channel): a PC that holds a
// branch's data can never turn itself into a seat. The rules are
// internal/seat/client's (form.go) and internal/seat/discover's.

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"tsunagu/internal/auth"
	"tsunagu/internal/datadir"
	"tsunagu/internal/seat/client"
	"tsunagu/internal/seat/discover"
	"tsunagu/internal/secrets"
)

// PrimaryProbe is the primary that answered at an address.
type PrimaryProbe struct {
	Addr        string `json:"addr"`        // host:port, as it will be stored
	Fingerprint string `json:"fingerprint"` // the primary's short fingerprint
}

// SeatPaired is a finished pairing: this installation is now a seat.
type SeatPaired struct {
	Name               string `json:"name"` // this seat's name at the primary
	Primary            string `json:"primary"`
	PrimaryFingerprint string `json:"primaryFingerprint"`
	SeatFingerprint    string `json:"seatFingerprint"` // the primary's seat list shows it
}

// FoundPrimary is a primary announced on the LAN.
type FoundPrimary = discover.Primary

// FindPrimaries lists the primaries announced on the LAN (about 2
// seconds). Without discovery (the dev server, tests) the list is empty and
// the person types the address.
func (s *SeatPairService) FindPrimaries() ([]FoundPrimary, error) {
	return seatFirstRun(s.a, func(ctx context.Context) ([]FoundPrimary, error) {
		if !s.a.opts.SeatDiscovery {
			return []FoundPrimary{}, nil
		}
		return discover.Browse(ctx, 2*time.Second, s.a.opts.Logger)
	})
}

// ProbePrimary connects to the primary at addr (typed or found) and
// returns its fingerprint for the person to compare; code is checked for
// its form first, so a mistyped code is said before anything is sent.
// Nothing is sent to the primary but a handshake.
func (s *SeatPairService) ProbePrimary(addr, code string) (PrimaryProbe, error) {
	return seatFirstRun(s.a, func(ctx context.Context) (PrimaryProbe, error) {
		hostPort, err := client.CheckForm(addr, code)
		if err != nil {
			return PrimaryProbe{}, err
		}
		fp, err := client.Probe(ctx, hostPort)
		if err != nil {
			return PrimaryProbe{}, err
		}
		return PrimaryProbe{Addr: hostPort, Fingerprint: fp.Short()}, nil
	})
}

// PairWithPrimary sends the code to the primary at addr, pinned to the
// fingerprint the person confirmed. On success this installation is a
// seat: its pairing is in seat.json and its key in this PC's keychain, the
// empty database of the fresh installation is removed, and the app must
// be restarted to open in the seat role.
func (s *SeatPairService) PairWithPrimary(addr, code, fingerprint string) (SeatPaired, error) {
	return seatFirstRun(s.a, func(ctx context.Context) (SeatPaired, error) {
		hostPort, err := client.CheckForm(addr, code)
		if err != nil {
			return SeatPaired{}, err
		}
		dir, err := datadir.Existing(s.a.opts.DataDir)
		if err != nil {
			return SeatPaired{}, err
		}
		id, err := dir.InstallID()
		if err != nil {
			return SeatPaired{}, err
		}
		kr := s.a.opts.Keyring
		if kr == nil {
			kr = secrets.OSKeyring()
		}
		res, err := client.Pair(ctx, client.PairOptions{Addr: hostPort, Code: code, Fingerprint: fingerprint, Dir: dir, Secrets: secrets.New(kr, id)})
		if err != nil {
			return SeatPaired{}, client.FormError(err)
		}
		if err := s.a.dropFreshDatabase(dir); err != nil {
			return SeatPaired{}, err
		}
		return SeatPaired{Name: res.Name, Primary: res.Primary, PrimaryFingerprint: res.PrimaryShort, SeatFingerprint: res.SeatShort}, nil
	})
}

// seatFirstRun runs fn only on a fresh installation: no staff account and
// no LINE channel (so no customer can have written to it).
func seatFirstRun[T any](a *Client, fn func(ctx context.Context) (T, error)) (T, error) {
	return unguarded(a, false, func(ctx context.Context, svc *auth.Service, ss *auth.Session) (T, error) {
		var zero T
		st, err := svc.State(ctx, ss)
		if err != nil {
			return zero, err
		}
		a.mu.RLock()
		sandbox := a.eng != nil && a.eng.Sandbox()
		a.mu.RUnlock()
		if !st.FirstRun || !sandbox {
			return zero, client.ErrHasData
		}
		return fn(ctx)
	})
}

// dropFreshDatabase closes the engine and removes the database a fresh
// installation made at its first start: a seat keeps no database.
func (a *App) dropFreshDatabase(dir datadir.Dir) error {
	a.closeSeats()
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.eng != nil {
		if err := a.eng.Close(); err != nil {
			return fmt.Errorf("close the new installation's database: %w", err)
		}
		a.eng = nil
	}
	a.err = errBecameSeat
	for _, suffix := range []string{"", "-wal", "-shm", "-journal"} {
		if err := os.Remove(dir.DBPath() + suffix); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("remove the new installation's empty database: %w", err)
		}
	}
	return nil
}

// errBecameSeat: the installation was paired as a seat in this run; it
// opens as a seat after a restart.
var errBecameSeat = client.ErrRestartAsSeat
