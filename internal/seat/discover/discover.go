// Package discover finds a branch's primary (親機) on the office LAN with
// DNS-SD over multicast DNS (service _tsunagu._tcp): the primary announces
// itself, a new seat browses. An announcement carries only the primary's
// name, its short certificate fingerprint and the app version: never
// customer data, never a code. Discovery is a convenience: pairing still
// needs the seat code, and the person compares the fingerprints.
//
// Only IPv4 mDNS (224.0.0.251:5353) is used: every office LAN carries it,
// and a typed address is the fallback when discovery finds nothing.
package discover

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"net/netip"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/hashicorp/mdns"
)

// Service is the DNS-SD service type of a primary's seat port.
const Service = "_tsunagu._tcp"

// TXT keys of an announcement.
const (
	txtName        = "name"
	txtFingerprint = "fp"
	txtVersion     = "v"
)

// ErrNotIsolated: a test binary tried to announce or browse while the
// process can reach a network other than loopback. Discovery tests run in a
// network namespace of their own (discover_test.go); nothing a test does may
// send a multicast packet to the LAN of the machine running it.
var ErrNotIsolated = errors.New("mDNS discovery from a test binary is only allowed inside a network namespace with loopback only (run the test through unshare -rn)")

// Announcement is what a primary tells the LAN about itself.
type Announcement struct {
	Name        string       // the primary's name shown to people (e.g. the branch), ≤ 40 characters
	Fingerprint string       // the short fingerprint 0412-7735-9018-2264
	Version     string       // the app version
	Port        int          // the seat port
	IPs         []netip.Addr // the addresses the seat port listens on
}

// Primary is a primary found on the LAN.
type Primary struct {
	Name        string `json:"name"`
	Fingerprint string `json:"fingerprint"` // short, as announced (the TLS handshake checks it again)
	Version     string `json:"version"`
	Addr        string `json:"addr"` // host:port to pair with
}

// underTest reports whether this process is a go test binary (which
// registers -test.v); checked without importing testing into the program.
func underTest() bool { return flag.Lookup("test.v") != nil }

// loopbackOnly reports whether every up interface of this process's
// network namespace is loopback.
func loopbackOnly() (bool, error) {
	ifs, err := net.Interfaces()
	if err != nil {
		return false, fmt.Errorf("list network interfaces: %w", err)
	}
	for _, i := range ifs {
		if i.Flags&net.FlagUp != 0 && i.Flags&net.FlagLoopback == 0 {
			return false, nil
		}
	}
	return true, nil
}

func guard() error {
	if !underTest() {
		return nil
	}
	ok, err := loopbackOnly()
	if err != nil {
		return err
	}
	if !ok {
		return ErrNotIsolated
	}
	return nil
}

func stdLogger(l *slog.Logger) *log.Logger {
	if l == nil {
		return log.New(io.Discard, "", 0)
	}
	return slog.NewLogLogger(l.Handler(), slog.LevelDebug)
}

// instanceLabel makes name usable as one DNS label: the library puts the
// instance into a dotted name unescaped, so dots and backslashes go (the
// exact name travels in TXT).
func instanceLabel(name string) string {
	s := strings.Map(func(r rune) rune {
		switch {
		case r == '.' || r == '\\' || r < 0x20 || r == 0x7f:
			return '-'
		}
		return r
	}, name)
	for len(s) > 63 { // a DNS label is at most 63 bytes
		_, n := utf8.DecodeLastRuneInString(s)
		s = s[:len(s)-n]
	}
	if s == "" {
		s = "tsunagu"
	}
	return s
}

// Announcer answers mDNS queries for a primary until Stop.
type Announcer struct{ srv *mdns.Server }

// Announce starts answering queries for _tsunagu._tcp with a. It is never
// started implicitly: the primary's window starts it when the seat port is
// open and announcing is on.
func Announce(ctx context.Context, a Announcement, logger *slog.Logger) (*Announcer, error) {
	if err := guard(); err != nil {
		return nil, err
	}
	if strings.TrimSpace(a.Name) == "" || a.Port <= 0 || a.Port > 65535 || len(a.IPs) == 0 {
		return nil, errors.New("announce a primary: a name, the seat port and its addresses are needed")
	}
	ips := make([]net.IP, 0, len(a.IPs))
	for _, ip := range a.IPs {
		if ip.Is4() || ip.Is4In6() { // IPv4 mDNS only (package doc)
			ips = append(ips, net.IP(ip.Unmap().AsSlice()))
		}
	}
	if len(ips) == 0 {
		return nil, errors.New("announce a primary: no IPv4 address to announce")
	}
	// The host name is made up from the fingerprint, not the PC's name:
	// nothing about the machine is told beyond what pairing shows anyway.
	host := "tsunagu-" + strings.ReplaceAll(a.Fingerprint, "-", "") + ".local."
	if a.Fingerprint == "" {
		host = "tsunagu-primary.local."
	}
	// The DNS library reads TXT strings in presentation format, so a
	// backslash or quote in a name is escaped to arrive as typed.
	esc := strings.NewReplacer(`\`, `\\`, `"`, `\"`)
	txt := []string{esc.Replace(txtName + "=" + a.Name), esc.Replace(txtFingerprint + "=" + a.Fingerprint), esc.Replace(txtVersion + "=" + a.Version)}
	zone, err := mdns.NewMDNSService(instanceLabel(a.Name), Service, "local.", host, a.Port, ips, txt)
	if err != nil {
		return nil, fmt.Errorf("announce a primary: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	srv, err := mdns.NewServer(&mdns.Config{Zone: zone, Logger: stdLogger(logger)})
	if err != nil {
		return nil, fmt.Errorf("announce a primary on mDNS (UDP 5353): %w", err)
	}
	return &Announcer{srv: srv}, nil
}

// Stop stops answering.
func (a *Announcer) Stop() error { return a.srv.Shutdown() }

// Browse asks the LAN for primaries and collects the answers for wait
// (0: 2 s). Each primary is listed once (by address), sorted by name.
func Browse(ctx context.Context, wait time.Duration, logger *slog.Logger) ([]Primary, error) {
	if err := guard(); err != nil {
		return nil, err
	}
	if wait <= 0 {
		wait = 2 * time.Second
	}
	entries := make(chan *mdns.ServiceEntry, 64) // the library drops answers when full
	done := make(chan error, 1)
	go func() {
		done <- mdns.QueryContext(ctx, &mdns.QueryParam{
			Service: Service, Domain: "local", Timeout: wait, Entries: entries,
			DisableIPv6: true, Logger: stdLogger(logger),
		})
		close(entries)
	}()
	seen := map[string]Primary{}
	for e := range entries {
		if p, ok := fromEntry(e); ok {
			seen[p.Addr] = p
		}
	}
	if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
		return nil, fmt.Errorf("look for primaries on mDNS (UDP 5353): %w", err)
	}
	out := make([]Primary, 0, len(seen))
	for _, p := range seen {
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Name != out[j].Name {
			return out[i].Name < out[j].Name
		}
		return out[i].Addr < out[j].Addr
	})
	return out, nil
}

func fromEntry(e *mdns.ServiceEntry) (Primary, bool) {
	if e == nil || e.AddrV4 == nil || e.Port <= 0 {
		return Primary{}, false
	}
	ip, ok := netip.AddrFromSlice(e.AddrV4.To4())
	if !ok {
		return Primary{}, false
	}
	p := Primary{Addr: netip.AddrPortFrom(ip, uint16(e.Port)).String()}
	for _, f := range e.InfoFields {
		k, v, _ := strings.Cut(unescape(f), "=")
		switch k {
		case txtName:
			p.Name = v
		case txtFingerprint:
			p.Fingerprint = v
		case txtVersion:
			p.Version = v
		}
	}
	// Something else that calls itself _tsunagu._tcp but is not a primary
	// of ours (no fingerprint) is not offered.
	if p.Name == "" || p.Fingerprint == "" || !utf8.ValidString(p.Name) {
		return Primary{}, false
	}
	return p, true
}

// unescape undoes the DNS presentation escapes (\DDD for a byte, \X for X)
// the DNS library puts on TXT bytes outside printable ASCII, such as UTF-8.
func unescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' || i+1 >= len(s) {
			b.WriteByte(c)
			continue
		}
		if i+3 < len(s) && isDigit(s[i+1]) && isDigit(s[i+2]) && isDigit(s[i+3]) {
			if n, err := strconv.Atoi(s[i+1 : i+4]); err == nil && n < 256 {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i+1])
		i++
	}
	return b.String()
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
