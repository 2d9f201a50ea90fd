// Package lan is the primary's presence on the office LAN for its seats:
// the seat port (one configurable port on every private LAN address of
// this PC, off until the first seat code is issued), the mDNS announcement
// (package discover, only when asked) and keeping the PC awake while seats
// are online (package awake). The rules of seats themselves (codes,
// pairing, revocation) are package primary's.
package lan

import (
	"context"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
	"tsunagu/internal/audit"

	qrcode "github.com/skip2/go-qrcode"

	"tsunagu/internal/auth"
	"tsunagu/internal/awake"
	"tsunagu/internal/fielderr"
	"tsunagu/internal/seat"
	"tsunagu/internal/seat/discover"
	"tsunagu/internal/seat/primary"
	"tsunagu/internal/store"
)

// SettingPort is the security setting holding the seat port.
const SettingPort = "seat.port"

// DefaultPort is the seat port unless the administrator chose another.
const DefaultPort = seat.DefaultPort

// Port limits: no privileged port, nothing above TCP's range.
const (
	MinPort = 1024
	MaxPort = 65535
)

var (
	// ErrInvalid: a setting of the seat port is out of range (fielderr).
	ErrInvalid = errors.New("the seat port must be a number from 1024 to 65535")
	// ErrNoLANAddress: this PC has no private LAN address to offer seats.
	ErrNoLANAddress = errors.New("this PC has no address on a private office network (192.168.x.x, 10.x.x.x, 172.16–31.x.x): connect it to the branch LAN")
	// ErrPortBusy: another program uses the seat port.
	ErrPortBusy = errors.New("the seat port is in use by another program: choose another port in the seat settings")
)

// GetPort reads the seat port (DefaultPort when unset).
func GetPort(ctx context.Context, db *store.DB) (int, error) {
	v, err := auth.GetSetting(ctx, db.Reader(), SettingPort)
	if err != nil || v == "" {
		return DefaultPort, err
	}
	p, err := strconv.Atoi(v)
	if err != nil || p < MinPort || p > MaxPort {
		return DefaultPort, nil
	}
	return p, nil
}

// SetPort changes the seat port; audited as a settings change. The field
// is "port" on the seat settings form.
func SetPort(ctx context.Context, db *store.DB, actor string, port int) error {
	if port < MinPort || port > MaxPort {
		var l fielderr.List
		l.AddBetween("port", MinPort, MaxPort)
		return l.Err(ErrInvalid)
	}
	return auth.SetSetting(ctx, db, actor, SettingPort, strconv.Itoa(port))
}

// ActionFirewall is the audit action of the firewall rule added for the
// seat port (target "seat:TCP N").
const ActionFirewall = "seat.firewall_allow"

// RecordFirewall audits the firewall rule added for port by actor.
func RecordFirewall(ctx context.Context, db *store.DB, actor string, port int) error {
	return db.Write(ctx, func(tx *sql.Tx) error {
		_, err := audit.Record(ctx, tx, audit.Entry{Actor: actor, Action: ActionFirewall, Target: "seat:TCP " + strconv.Itoa(port)})
		return err
	})
}

// PrivateAddrs lists this PC's addresses on private networks (RFC 1918,
// fc00::/7) on interfaces that are up: where seats may reach the port.
// Public and link-local addresses are left out on purpose.
func PrivateAddrs() ([]netip.Addr, error) {
	ifs, err := net.Interfaces()
	if err != nil {
		return nil, fmt.Errorf("list network interfaces: %w", err)
	}
	var out []netip.Addr
	for _, i := range ifs {
		if i.Flags&net.FlagUp == 0 || i.Flags&net.FlagLoopback != 0 {
			continue
		}
		addrs, err := i.Addrs()
		if err != nil {
			continue
		}
		for _, a := range addrs {
			pfx, err := netip.ParsePrefix(a.String())
			if err != nil {
				continue
			}
			if ip := pfx.Addr().Unmap(); ip.IsPrivate() {
				out = append(out, ip)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Less(out[j]) })
	return out, nil
}

// Config is what the seat port needs.
type Config struct {
	Registry *primary.Registry
	Identity seat.Identity
	Port     int
	// Addrs lists the addresses to listen on; nil: PrivateAddrs. The dev
	// server and tests pass loopback.
	Addrs func() ([]netip.Addr, error)
	// Listen, when set, is the one address:port to listen on instead of
	// Port on Addrs (the dev bridge's --seat-listen and tests: loopback,
	// port 0 for any free one; Addrs says which).
	Listen string
	// Announce the primary on mDNS as AnnounceName (off unless asked: the
	// window asks, tests and the dev server do not).
	Announce     bool
	AnnounceName string
	Version      string
	Keeper       *awake.Keeper // nil: the PC's sleep is not touched
	Logger       *slog.Logger
	Clock        func() time.Time // nil: time.Now
}

// Seats is an open seat port: the listeners, the server behind them, the
// announcement and the keep-awake loop, until Close.
type Seats struct {
	srv    *primary.Server
	lns    []net.Listener
	addrs  []string
	ann    *discover.Announcer
	cancel context.CancelFunc
	wg     sync.WaitGroup
	keeper *awake.Keeper
}

// Open starts listening for seats on cfg.Port on every address of
// cfg.Addrs. Addresses that cannot be opened are logged and left out; none
// at all is an error.
func Open(ctx context.Context, cfg Config) (*Seats, error) {
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	var addrs []string
	if cfg.Listen != "" {
		ap, err := netip.ParseAddrPort(cfg.Listen)
		if err != nil {
			return nil, fmt.Errorf("seat address %q: %w", cfg.Listen, err)
		}
		addrs = []string{ap.String()}
	} else {
		list := cfg.Addrs
		if list == nil {
			list = PrivateAddrs
		}
		ips, err := list()
		if err != nil {
			return nil, err
		}
		for _, ip := range ips {
			addrs = append(addrs, netip.AddrPortFrom(ip, uint16(cfg.Port)).String())
		}
	}
	if len(addrs) == 0 {
		return nil, ErrNoLANAddress
	}
	ctx, cancel := context.WithCancel(ctx)
	s := &Seats{cancel: cancel, keeper: cfg.Keeper}
	s.srv = primary.NewServer(primary.Config{Registry: cfg.Registry, Identity: cfg.Identity, Logger: log, Clock: cfg.Clock})
	var busy error
	var opened []netip.Addr
	port := cfg.Port
	for _, addr := range addrs {
		ln, err := primary.Listen(ctx, addr)
		if err != nil {
			log.Warn("seat port not opened on one address", "addr", addr, "err", err)
			busy = err
			continue
		}
		s.lns = append(s.lns, ln)
		s.addrs = append(s.addrs, ln.Addr().String())
		ap := netip.MustParseAddrPort(ln.Addr().String())
		opened, port = append(opened, ap.Addr().Unmap()), int(ap.Port())
	}
	if len(s.lns) == 0 {
		cancel()
		if busy != nil {
			return nil, fmt.Errorf("open the seat port %s: %w (%v)", strings.Join(addrs, ", "), ErrPortBusy, busy)
		}
		return nil, ErrNoLANAddress
	}
	for _, ln := range s.lns {
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			if err := s.srv.Serve(ctx, ln); err != nil && ctx.Err() == nil {
				log.Warn("seat port stopped", "addr", ln.Addr().String(), "err", err)
			}
		}()
	}
	if cfg.Announce {
		var err error
		s.ann, err = discover.Announce(ctx, discover.Announcement{Name: cfg.AnnounceName, Fingerprint: cfg.Identity.Fingerprint.Short(),
			Version: cfg.Version, Port: port, IPs: opened}, log)
		if err != nil { // seats can still type the address
			log.Warn("the primary is not announced on the LAN", "err", err)
		}
	}
	if s.keeper != nil {
		s.wg.Add(1)
		go func() { defer s.wg.Done(); s.keepAwake(ctx) }()
	}
	return s, nil
}

// keepAwake follows how many seats are online; a second is soon enough for
// a PC that would sleep after minutes.
func (s *Seats) keepAwake(ctx context.Context) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		s.keeper.Set(len(s.srv.Online()))
		select {
		case <-ctx.Done():
			s.keeper.Set(0)
			return
		case <-t.C:
		}
	}
}

// Server is the seat server behind the port (for the facade's handlers).
func (s *Seats) Server() *primary.Server { return s.srv }

// Addrs are the addresses the port listens on (host:port).
func (s *Seats) Addrs() []string { return append([]string(nil), s.addrs...) }

// Online lists the names of the seats connected now.
func (s *Seats) Online() []string { return s.srv.Online() }

// Close stops the announcement, the listeners and every seat connection.
func (s *Seats) Close() error {
	if s.ann != nil {
		_ = s.ann.Stop()
	}
	s.cancel()
	for _, ln := range s.lns {
		_ = ln.Close()
	}
	s.wg.Wait()
	return nil
}

// OfferQR is the QR code shown with a new seat code, as a data: URL: the
// code, the primary's fingerprint and its addresses, so a seat that can
// scan needs nothing typed. It holds nothing a seat would not be told on
// screen anyway.
func OfferQR(code, fingerprint string, addrs []string) (string, error) {
	q := url.Values{"fp": {fingerprint}}
	for _, a := range addrs {
		q.Add("addr", a)
	}
	b, err := qrcode.Encode("tsunagu-seat:"+code+"?"+q.Encode(), qrcode.Medium, 320)
	if err != nil {
		return "", fmt.Errorf("seat code QR: %w", err)
	}
	return "data:image/png;base64," + base64.StdEncoding.EncodeToString(b), nil
}
