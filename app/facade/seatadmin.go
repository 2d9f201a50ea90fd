package facade

// Managing seats on the primary (issue 18), admin only: a one-time seat
// code for a named seat (with a QR code and this primary's fingerprint),
// the list of seats, revocation, and the seat port. The rules are
// internal/seat/primary's (codes, registry, audit) and internal/seat/lan's
// (the port, announcing, keeping the PC awake); the port is this App's and
// stays off until the first code is issued or a seat is paired.

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"strings"
	"sync"
	"time"
	"tsunagu/internal/seat/firewall"

	"tsunagu/internal/auth"
	"tsunagu/internal/awake"
	"tsunagu/internal/engine"
	"tsunagu/internal/fielderr"
	"tsunagu/internal/msgcode"
	"tsunagu/internal/seat/lan"
	"tsunagu/internal/seat/primary"
)

// seatPort is the App's seat port: nil until opened.
type seatPort struct {
	mu     sync.Mutex
	open   *lan.Seats
	keeper *awake.Keeper
	err    error  // why the last attempt to open failed
	unplug func() // the bound services off the open port (seats.go plugSeats)
	// listen is Options.SeatListen with its port resolved by the first
	// open, so seats find the port again after the engine restarts.
	listen      string
	fingerprint string // the primary's, short (Host.SeatListener)
}

// SeatOverview is the seat management screen's state.
type SeatOverview struct {
	Enabled     bool     `json:"enabled"`     // the seat port is open
	Port        int      `json:"port"`        // the configured port
	Addrs       []string `json:"addrs"`       // where seats reach this PC (host:port)
	Fingerprint string   `json:"fingerprint"` // this primary's short fingerprint
	PortError   string   `json:"portError"`   // a message code when the port could not be opened
	// Firewall: the Windows firewall rule for the port, "allowed" or
	// "missing"; "notNeeded" on other systems; "" when it could not be read.
	Firewall string    `json:"firewall"`
	Seats    []SeatRow `json:"seats"`
}

// SeatRow is one paired seat (revoked ones are left out).
type SeatRow struct {
	Name          string `json:"name"`
	Fingerprint   string `json:"fingerprint"`   // the seat's short fingerprint
	PairedAt      int64  `json:"pairedAt"`      // Unix ms
	LastContactAt int64  `json:"lastContactAt"` // Unix ms; 0: never connected
	Online        bool   `json:"online"`
}

// SeatCodeOffer is a new seat code as the screen shows it, once.
type SeatCodeOffer struct {
	Code        string   `json:"code"`
	Name        string   `json:"name"`
	ExpiresAt   int64    `json:"expiresAt"` // Unix ms
	Fingerprint string   `json:"fingerprint"`
	Addrs       []string `json:"addrs"`
	QR          string   `json:"qr"` // data: URL
}

// SeatAdmin is the seat management screen's state.
func (s *SeatAdminService) SeatAdmin() (SeatOverview, error) {
	return call(s.a, auth.PermStaff, func(ctx context.Context, _ auth.Staff, eng *engine.Engine) (SeatOverview, error) {
		return s.a.seatOverview(ctx, eng)
	})
}

// IssueSeatCode makes a one-time code (10 minutes) for a new seat called
// name and opens the seat port if it is off; audited (seat.code).
func (s *SeatAdminService) IssueSeatCode(name string) (SeatCodeOffer, error) {
	return call(s.a, auth.PermStaff, func(ctx context.Context, st auth.Staff, eng *engine.Engine) (SeatCodeOffer, error) {
		// The code first: a wrong name must not open the port. A port that
		// then cannot open leaves a code nobody saw; it dies in 10 minutes.
		code, err := eng.Seats().IssueCode(ctx, st.Actor(), name)
		switch {
		case errors.Is(err, primary.ErrBadName) && strings.TrimSpace(name) == "":
			return SeatCodeOffer{}, fielderr.New(err, "name", fielderr.Required)
		case errors.Is(err, primary.ErrBadName):
			return SeatCodeOffer{}, fielderr.New(err, "name", fielderr.OneLine) // too long or a line break: the message says both
		case errors.Is(err, primary.ErrNameTaken):
			return SeatCodeOffer{}, fielderr.New(err, "name", fielderr.Taken)
		case err != nil:
			return SeatCodeOffer{}, err
		}
		seats, err := s.a.openSeats(ctx, eng)
		if err != nil {
			return SeatCodeOffer{}, err
		}
		id, err := eng.SeatIdentity(ctx)
		if err != nil {
			return SeatCodeOffer{}, err
		}
		fp := id.Fingerprint.Short()
		qr, err := lan.OfferQR(code.Code, fp, seats.Addrs())
		if err != nil {
			return SeatCodeOffer{}, err
		}
		return SeatCodeOffer{Code: code.Code, Name: code.Name, ExpiresAt: code.ExpiresAt.UnixMilli(), Fingerprint: fp, Addrs: seats.Addrs(), QR: qr}, nil
	})
}

// AllowSeatFirewall adds the Windows firewall rule for the seat port
// (inbound TCP, private networks only, this program): netsh run elevated,
// one UAC prompt; audited (seat.firewall_allow). Other systems:
// errors.seatFirewallNotNeeded.
func (s *SeatAdminService) AllowSeatFirewall() (SeatOverview, error) {
	return call(s.a, auth.PermStaff, func(ctx context.Context, st auth.Staff, eng *engine.Engine) (SeatOverview, error) {
		port, err := eng.SeatPort(ctx)
		if err != nil {
			return SeatOverview{}, err
		}
		exe, err := os.Executable()
		if err != nil {
			return SeatOverview{}, fmt.Errorf("firewall rule: this program's path: %w", err)
		}
		// The administrator answers the UAC prompt meanwhile.
		wait, cancel := context.WithTimeout(ctx, 2*time.Minute)
		defer cancel()
		if err := firewall.Allow(wait, exe, port); err != nil {
			return SeatOverview{}, err
		}
		if err := eng.RecordSeatFirewall(ctx, st.Actor(), port); err != nil {
			return SeatOverview{}, err
		}
		return s.a.seatOverview(ctx, eng)
	})
}

// RevokeSeat revokes the seat called name: it is disconnected at once and
// refused after; audited (seat.revoke).
func (s *SeatAdminService) RevokeSeat(name string) error {
	return run(s.a, auth.PermStaff, func(ctx context.Context, st auth.Staff, eng *engine.Engine) error {
		s.a.seats.mu.Lock()
		open := s.a.seats.open
		s.a.seats.mu.Unlock()
		if open != nil {
			_, err := open.Server().Revoke(ctx, st.Actor(), name)
			return err
		}
		_, err := eng.Seats().Revoke(ctx, st.Actor(), name)
		return err
	})
}

// SetSeatPort changes the seat port (1024–65535); an open port moves to
// it at once. Audited as a settings change.
func (s *SeatAdminService) SetSeatPort(port int) (SeatOverview, error) {
	return call(s.a, auth.PermStaff, func(ctx context.Context, st auth.Staff, eng *engine.Engine) (SeatOverview, error) {
		was, err := eng.SeatPort(ctx)
		if err != nil {
			return SeatOverview{}, err
		}
		if err := eng.SetSeatPort(ctx, st.Actor(), port); err != nil {
			return SeatOverview{}, err
		}
		s.a.seats.mu.Lock()
		wasOpen := s.a.seats.open != nil
		s.a.seats.mu.Unlock()
		if wasOpen && was != port { // moving the port reconnects every seat
			s.a.closeSeats()
			if _, err := s.a.openSeats(ctx, eng); err != nil {
				return SeatOverview{}, err
			}
		}
		return s.a.seatOverview(ctx, eng)
	})
}

func (a *App) seatOverview(ctx context.Context, eng *engine.Engine) (SeatOverview, error) {
	port, err := eng.SeatPort(ctx)
	if err != nil {
		return SeatOverview{}, err
	}
	id, err := eng.SeatIdentity(ctx)
	if err != nil {
		return SeatOverview{}, err
	}
	list, err := eng.Seats().List(ctx)
	if err != nil {
		return SeatOverview{}, err
	}
	out := SeatOverview{Port: port, Fingerprint: id.Fingerprint.Short(), Addrs: []string{}, Seats: []SeatRow{}}
	switch ok, err := firewall.Exists(ctx, port); {
	case errors.Is(err, firewall.ErrNotNeeded):
		out.Firewall = "notNeeded"
	case err != nil:
		a.opts.Logger.Warn("reading the firewall rule", "err", err)
	case ok:
		out.Firewall = "allowed"
	default:
		out.Firewall = "missing"
	}
	online := map[string]bool{}
	a.seats.mu.Lock()
	if a.seats.open != nil {
		out.Enabled = true
		out.Addrs = a.seats.open.Addrs()
		for _, n := range a.seats.open.Online() {
			online[n] = true
		}
	} else if a.seats.err != nil {
		out.PortError = msgcode.Code(a.seats.err)
	}
	a.seats.mu.Unlock()
	for _, st := range list {
		if st.RevokedAt != nil {
			continue
		}
		row := SeatRow{Name: st.Name, Fingerprint: st.Short, PairedAt: st.CreatedAt.UnixMilli(), Online: online[st.Name]}
		if st.LastContactAt != nil {
			row.LastContactAt = st.LastContactAt.UnixMilli()
		}
		if row.Online { // connected now: its last contact is now
			row.LastContactAt = a.now().UnixMilli()
		}
		out.Seats = append(out.Seats, row)
	}
	return out, nil
}

func (a *App) now() time.Time {
	if a.opts.Clock != nil {
		return a.opts.Clock()
	}
	return time.Now()
}

// openSeats opens the seat port if it is not open yet.
func (a *App) openSeats(ctx context.Context, eng *engine.Engine) (*lan.Seats, error) {
	a.seats.mu.Lock()
	defer a.seats.mu.Unlock()
	if a.seats.open != nil {
		return a.seats.open, nil
	}
	port, err := eng.SeatPort(ctx)
	if err != nil {
		return nil, err
	}
	id, err := eng.SeatIdentity(ctx)
	if err != nil {
		return nil, err
	}
	if a.seats.keeper == nil && a.opts.KeepAwake != nil {
		a.seats.keeper = awake.New(a.opts.KeepAwake, a.opts.Logger)
	}
	cfg := lan.Config{Registry: eng.Seats(), Identity: id, Port: port, Keeper: a.seats.keeper, Logger: a.opts.Logger,
		Announce: a.opts.SeatDiscovery, AnnounceName: primaryName(), Version: a.opts.Version, Clock: a.opts.Clock}
	if !a.opts.SeatOnLAN {
		cfg.Addrs = func() ([]netip.Addr, error) { return []netip.Addr{netip.MustParseAddr("127.0.0.1")}, nil }
	}
	if a.opts.SeatListen != "" {
		cfg.Listen = a.opts.SeatListen
		if a.seats.listen != "" {
			cfg.Listen = a.seats.listen
		}
	}
	// The port lives as long as the App, not the call that opened it.
	open, err := lan.Open(a.ctx, cfg)
	a.seats.err = err
	if err != nil {
		return nil, err
	}
	a.seats.open = open
	a.seats.fingerprint = id.Fingerprint.Short()
	if a.opts.SeatListen != "" {
		a.seats.listen = open.Addrs()[0]
	}
	// The seats call the bound services and get the window's events here.
	a.seats.unplug = a.plugSeats(open.Server())
	return open, nil
}

// openSeatsIfPaired opens the seat port at start when seats are paired,
// so they can reconnect without anyone opening the seat screen.
func (a *App) openSeatsIfPaired(eng *engine.Engine) {
	ctx := a.context()
	if a.opts.SeatListen != "" { // asked for by address: open whatever is paired
		if _, err := a.openSeats(ctx, eng); err != nil {
			a.opts.Logger.Error("the seat port did not open", "addr", a.opts.SeatListen, "err", err)
		}
		return
	}
	list, err := eng.Seats().List(ctx)
	if err != nil {
		a.opts.Logger.Warn("seat list at start", "err", err)
		return
	}
	for _, s := range list {
		if s.RevokedAt == nil {
			if _, err := a.openSeats(ctx, eng); err != nil {
				a.opts.Logger.Warn("seat port not opened at start", "err", err)
			}
			return
		}
	}
}

// closeSeats closes the seat port (the engine is closing).
func (a *App) closeSeats() {
	a.seats.mu.Lock()
	open, unplug := a.seats.open, a.seats.unplug
	a.seats.open, a.seats.unplug = nil, nil
	a.seats.mu.Unlock()
	if unplug != nil {
		unplug()
	}
	if open != nil {
		_ = open.Close()
	}
}

// SeatsOnline is how many seats are connected now (the window's close
// confirmation).
func (h *Host) SeatsOnline() int {
	h.app.seats.mu.Lock()
	defer h.app.seats.mu.Unlock()
	if h.app.seats.open == nil {
		return 0
	}
	return len(h.app.seats.open.Online())
}

// primaryName is how the primary calls itself on the LAN: this PC's name
// (nothing about the branch's customers).
func primaryName() string {
	if h, err := os.Hostname(); err == nil && h != "" {
		return "Tsunagu " + h
	}
	return "Tsunagu"
}
