package client

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"tsunagu/internal/fielderr"
	"tsunagu/internal/seat"
	"tsunagu/internal/secrets"
	"tsunagu/internal/textfold"
)

// The first-run form of a new seat (「支店の親機に接続する」): the primary's
// address (found on the LAN or typed), the seat code, then the primary's
// fingerprint shown for the person to compare before the code is sent.
// Errors name the form's fields: "addr" and "code".

var (
	// ErrBadAddress: the typed address is not host or host:port.
	ErrBadAddress = errors.New("the primary's address is not in the form 192.168.1.20 or 192.168.1.20:7443")
	// ErrUnreachable: nothing answers at the address (wrong address, the
	// primary's app is closed or its seat port is off, a firewall).
	ErrUnreachable = errors.New("no answer from the primary at this address: check the address and that the primary's app is running with seats turned on")
	// ErrNotPrimary: something answers, but not a Tsunagu primary's seat port.
	ErrNotPrimary = errors.New("the computer at this address is not a Tsunagu primary: check the address and port")
)

// ParseAddr accepts what a person types for the primary: an IP address or
// host name, with or without a port (seat.DefaultPort), full-width digits
// folded. It returns host:port.
func ParseAddr(s string) (string, error) {
	s = strings.TrimSpace(textfold.Width(s))
	if s == "" {
		return "", fielderr.New(ErrBadAddress, "addr", fielderr.Required)
	}
	host, port := s, strconv.Itoa(seat.DefaultPort)
	if h, p, err := net.SplitHostPort(s); err == nil {
		host, port = h, p
	} else if ip, err := netip.ParseAddr(strings.Trim(s, "[]")); err == nil && ip.Is6() {
		host = ip.String() // a bare IPv6 address
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 1 || n > 65535 || host == "" || strings.ContainsAny(host, " /\\@?#") {
		return "", fielderr.New(ErrBadAddress, "addr", fielderr.Format)
	}
	return net.JoinHostPort(host, port), nil
}

// CheckCode checks the form of a typed seat code (7KQ2M-XH4PB; lower case,
// full width and a missing hyphen are fine) before anything is sent.
func CheckCode(code string) error {
	if strings.TrimSpace(code) == "" {
		return fielderr.New(seat.ErrCodeWrong, "code", fielderr.Required)
	}
	if _, err := seat.HashCode(textfold.Width(code)); err != nil {
		return fielderr.New(seat.ErrCodeWrong, "code", fielderr.Format)
	}
	return nil
}

// CheckForm checks the address and the code together, so that both wrong
// fields are said at once; it returns the address as host:port.
func CheckForm(addr, code string) (string, error) {
	hostPort, aerr := ParseAddr(addr)
	cerr := CheckCode(code)
	var l fielderr.List
	l.Merge(aerr)
	l.Merge(cerr)
	switch {
	case aerr != nil:
		return "", l.Err(ErrBadAddress) // the address is the first field of the form
	case cerr != nil:
		return "", l.Err(seat.ErrCodeWrong)
	}
	return hostPort, nil
}

// Probe connects to the primary at addr (host:port) on the pairing
// protocol and returns its fingerprint; no code is sent.
func Probe(ctx context.Context, addr string) (seat.Fingerprint, error) {
	key, err := secrets.NewSeatKey() // a throwaway: the primary accepts any key for pairing
	if err != nil {
		return seat.Fingerprint{}, err
	}
	id, err := seat.NewIdentity(key.PrivateKey(), "tsunagu-seat", time.Now())
	if err != nil {
		return seat.Fingerprint{}, err
	}
	var fp seat.Fingerprint
	tc, err := dial(ctx, addr, seat.ClientConfig(id, seat.ProtoPair, func(got seat.Fingerprint) error { fp = got; return nil }))
	if err != nil {
		return seat.Fingerprint{}, FormError(err)
	}
	tc.Close()
	return fp, nil
}

// FormError puts an error of Probe or Pair on the form's field: a refused
// code on "code", an address that does not answer or is no primary on
// "addr". Other errors pass unchanged.
func FormError(err error) error {
	var opErr *net.OpError
	var recErr tls.RecordHeaderError
	var alert tls.AlertError
	switch {
	case err == nil:
		return nil
	case fielderr.Fields(err) != nil:
		return err
	case errors.Is(err, seat.ErrCodeWrong), errors.Is(err, seat.ErrCodeUsed), errors.Is(err, seat.ErrCodeExpired), errors.Is(err, seat.ErrPairingPaused):
		return fielderr.New(err, "code", fielderr.Refused)
	case errors.Is(err, ErrFingerprintMismatch), errors.Is(err, seat.ErrWrongPrimary):
		return fielderr.New(err, "addr", fielderr.NotPrimary)
	case errors.As(err, &recErr), errors.As(err, &alert), isTLSFailure(err):
		return fielderr.New(fmt.Errorf("%w: %v", ErrNotPrimary, err), "addr", fielderr.NotPrimary)
	case errors.As(err, &opErr), errors.Is(err, context.DeadlineExceeded):
		return fielderr.New(fmt.Errorf("%w: %v", ErrUnreachable, err), "addr", fielderr.Unreachable)
	}
	return err
}

// isTLSFailure: a peer that is not a seat port fails the handshake in ways
// crypto/tls reports only as text (no ALPN agreed, an unexpected message,
// a connection closed in the middle).
func isTLSFailure(err error) bool {
	s := err.Error()
	return strings.Contains(s, "tls:") || strings.Contains(s, "EOF") || strings.Contains(s, "connection reset")
}

// ErrHasData: this installation already holds a branch's data (staff
// accounts, a LINE channel): it is a primary or a single PC, never a seat.
var ErrHasData = errors.New("this installation already holds a branch's data (staff accounts or a LINE channel), so it cannot become a seat")

// ErrRestartAsSeat: this installation was paired as a seat while running
// as a new installation; it opens as a seat once restarted.
var ErrRestartAsSeat = errors.New("this PC is now a seat of the branch's primary: restart the app")
