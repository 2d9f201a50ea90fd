package discover

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/mdns"
)

// inNamespace marks the re-executed test binary that runs inside its own
// user and network namespace (TestDiscoveryInNamespace).
const inNamespace = "TSUNAGU_DISCOVER_NETNS"

// TestDiscoveryInNamespace announces two primaries and browses for them,
// inside a new user+network namespace whose only interface is loopback:
// no packet of this test reaches the LAN of the machine running it. When
// the namespace cannot be made the test fails and says why.
func TestDiscoveryInNamespace(t *testing.T) {
	if os.Getenv(inNamespace) != "1" {
		unshare, err := exec.LookPath("unshare")
		if err != nil {
			t.Fatalf("this test runs itself inside `unshare -rn` (util-linux) so that no multicast reaches the LAN; unshare is missing: %v", err)
		}
		cmd := exec.Command(unshare, "-rn", os.Args[0], "-test.run=^TestDiscoveryInNamespace$", "-test.v")
		cmd.Env = append(os.Environ(), inNamespace+"=1")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("the discovery test inside a new network namespace (unshare -rn) failed: %v\n%s", err, out)
		}
		if !strings.Contains(string(out), "--- PASS: TestDiscoveryInNamespace") {
			t.Fatalf("the test inside the namespace did not run:\n%s", out)
		}
		return
	}

	for _, args := range [][]string{
		{"link", "set", "lo", "up"},
		{"link", "set", "lo", "multicast", "on"},
		{"route", "add", "224.0.0.0/4", "dev", "lo"},
	} {
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			t.Fatalf("set up loopback multicast in the test's namespace (ip %s): %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	if ok, err := loopbackOnly(); err != nil || !ok {
		t.Fatalf("the namespace has an interface other than loopback (%v): refusing to multicast", err)
	}

	ctx := context.Background()
	lo := []netip.Addr{netip.MustParseAddr("127.0.0.1")}
	a1, err := Announce(ctx, Announcement{Name: "渋谷支店 親機", Fingerprint: "0412-7735-9018-2264", Version: "1.4.0", Port: 7443, IPs: lo}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer a1.Stop()
	a2, err := Announce(ctx, Announcement{Name: "2.predicate\\odd \"q\"", Fingerprint: "1111-2222-3333-4444", Version: "1.4.0", Port: 7444, IPs: lo}, nil)
	if err != nil {
		t.Fatal(err)
	}

	want := map[string]Primary{
		"127.0.0.1:7443": {Name: "渋谷支店 親機", Fingerprint: "0412-7735-9018-2264", Version: "1.4.0", Addr: "127.0.0.1:7443"},
		"127.0.0.1:7444": {Name: "2.predicate\\odd \"q\"", Fingerprint: "1111-2222-3333-4444", Version: "1.4.0", Addr: "127.0.0.1:7444"},
	}
	// Browse until both answered: a loaded machine may miss a round.
	got := browseUntil(t, func(ps []Primary) bool { return len(ps) == 2 })
	for _, p := range got {
		if want[p.Addr] != p {
			t.Errorf("found %+v, want %+v", p, want[p.Addr])
		}
	}
	if got[0].Name > got[1].Name {
		t.Errorf("not sorted by name: %+v", got)
	}

	// A stopped announcer is no longer found.
	if err := a2.Stop(); err != nil {
		t.Fatal(err)
	}
	got = browseUntil(t, func(ps []Primary) bool { return len(ps) == 1 })
	if got[0].Addr != "127.0.0.1:7443" {
		t.Errorf("after stopping the second: %+v", got)
	}

	// Something else named _tsunagu._tcp without our TXT is not offered.
	zone, err := mdns.NewMDNSService("stranger", Service, "local.", "stranger.local.", 9000, []net.IP{net.IPv4(127, 0, 0, 1)}, []string{"hello"})
	if err != nil {
		t.Fatal(err)
	}
	stranger, err := mdns.NewServer(&mdns.Config{Zone: zone, Logger: stdLogger(nil)})
	if err != nil {
		t.Fatal(err)
	}
	defer stranger.Shutdown()
	for range 3 {
		ps, err := Browse(ctx, time.Second, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range ps {
			if p.Addr != "127.0.0.1:7443" {
				t.Fatalf("offered something that is not a primary: %+v", p)
			}
		}
	}
}

func browseUntil(t *testing.T, done func([]Primary) bool) []Primary {
	t.Helper()
	deadline := time.Now().Add(45 * time.Second)
	var last []Primary
	for time.Now().Before(deadline) {
		ps, err := Browse(context.Background(), 1500*time.Millisecond, nil)
		if err != nil {
			t.Fatal(err)
		}
		if done(ps) {
			return ps
		}
		last = ps
	}
	t.Fatalf("browsing found %+v, not what was announced", last)
	return nil
}

// Outside a namespace of its own a test binary may not multicast at all:
// Announce and Browse refuse before opening a socket.
func TestRefusesOutsideNamespace(t *testing.T) {
	if os.Getenv(inNamespace) == "1" {
		t.Skip("inside the namespace: covered by the parent run")
	}
	ok, err := loopbackOnly()
	if err != nil {
		t.Fatal(err)
	}
	if ok {
		t.Skip("this machine has no interface but loopback: nothing to refuse")
	}
	if _, err := Browse(context.Background(), time.Second, nil); !errors.Is(err, ErrNotIsolated) {
		t.Errorf("Browse outside a namespace: %v, want ErrNotIsolated", err)
	}
	if _, err := Announce(context.Background(), Announcement{Name: "x", Fingerprint: "f", Port: 1, IPs: []netip.Addr{netip.MustParseAddr("127.0.0.1")}}, nil); !errors.Is(err, ErrNotIsolated) {
		t.Errorf("Announce outside a namespace: %v, want ErrNotIsolated", err)
	}
}

func TestUnescapeAndEntries(t *testing.T) {
	for in, want := range map[string]string{
		`name=\230\184\139\232\176\183`: "name=渋谷",
		`a\\b\"c`:                       `a\b"c`,
		`plain`:                         "plain",
		`trail\`:                        `trail\`,
	} {
		if got := unescape(in); got != want {
			t.Errorf("unescape(%q) = %q, want %q", in, got, want)
		}
	}
	e := &mdns.ServiceEntry{AddrV4: net.IPv4(192, 168, 1, 20), Port: 7443, InfoFields: []string{`name=\231\170\147\229\143\163`, "fp=0412-7735-9018-2264", "v=1"}}
	if p, ok := fromEntry(e); !ok || p != (Primary{Name: "窓口", Fingerprint: "0412-7735-9018-2264", Version: "1", Addr: "192.168.1.20:7443"}) {
		t.Errorf("fromEntry = %+v %v", p, ok)
	}
	for _, bad := range []*mdns.ServiceEntry{
		{AddrV4: net.IPv4(192, 168, 1, 20), Port: 7443, InfoFields: []string{"name=x"}}, // no fingerprint
		{Port: 7443, InfoFields: []string{"name=x", "fp=1"}},                            // no IPv4
		{AddrV4: net.IPv4(192, 168, 1, 20), InfoFields: []string{"name=x", "fp=1"}},     // no port
	} {
		if p, ok := fromEntry(bad); ok {
			t.Errorf("fromEntry(%+v) accepted %+v", bad, p)
		}
	}
	if l := instanceLabel("a.b\\c"); l != "a-b-c" {
		t.Errorf("instanceLabel = %q", l)
	}
	if l := instanceLabel(strings.Repeat("窓", 30)); len(l) > 63 || !strings.HasPrefix(l, "窓") {
		t.Errorf("instanceLabel too long: %d bytes", len(l))
	}
}
