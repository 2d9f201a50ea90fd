package primary

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
)

// ErrListenAddr: the address to listen on is not one LAN (or loopback)
// address of this computer.
var ErrListenAddr = errors.New("listen on one LAN address of this computer and a port, e.g. 192.168.1.20:7443 (not 0.0.0.0, not a public address)")

// CheckListenAddr accepts host:port where host is one IP address on the
// LAN: private (10/8, 172.16/12, 192.168/16, fc00::/7), link-local or
// loopback. Listening on every interface (0.0.0.0, ::) or a public address
// would offer the seat port to networks the branch does not control.
func CheckListenAddr(addr string) (netip.AddrPort, error) {
	ap, err := netip.ParseAddrPort(addr)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("%q: %w", addr, ErrListenAddr)
	}
	ip := ap.Addr().Unmap()
	if ip.IsUnspecified() || !(ip.IsPrivate() || ip.IsLoopback() || ip.IsLinkLocalUnicast()) {
		return netip.AddrPort{}, fmt.Errorf("%q: %w", addr, ErrListenAddr)
	}
	return ap, nil
}

// Listen opens the seat port on addr (CheckListenAddr); port 0 picks a free one.
func Listen(ctx context.Context, addr string) (net.Listener, error) {
	ap, err := CheckListenAddr(addr)
	if err != nil {
		return nil, err
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", ap.String())
	if err != nil {
		return nil, fmt.Errorf("open the seat port %s: %w", ap, err)
	}
	return ln, nil
}
