package firewall

import (
	"context"
	"errors"
	"reflect"
	"runtime"
	"testing"
)

func TestAddArgs(t *testing.T) {
	args, err := AddArgs(`C:\Users\山田\AppData\Local\Programs\Tsunagu\tsunagu.exe`, 7443)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"advfirewall", "firewall", "add", "rule", "name=Tsunagu seats TCP 7443", "dir=in", "action=allow",
		"protocol=TCP", "localport=7443", "profile=private", "enable=yes", `program=C:\Users\山田\AppData\Local\Programs\Tsunagu\tsunagu.exe`}
	if !reflect.DeepEqual(args, want) {
		t.Fatalf("args\n%q\nwant\n%q", args, want)
	}
	if got, want := CommandLine(args), `advfirewall firewall add rule name="Tsunagu seats TCP 7443" dir=in action=allow protocol=TCP localport=7443 profile=private enable=yes program="C:\Users\山田\AppData\Local\Programs\Tsunagu\tsunagu.exe"`; got != want {
		t.Fatalf("command line\n%s\nwant\n%s", got, want)
	}
	spaced, _ := AddArgs(`C:\Program Files\Tsunagu\tsunagu.exe`, 8443)
	if got := CommandLine(spaced[len(spaced)-1:]); got != `program="C:\Program Files\Tsunagu\tsunagu.exe"` {
		t.Fatalf("a path with a space: %s", got)
	}
	if got := CommandLine(ShowArgs(8443)); got != `advfirewall firewall show rule name="Tsunagu seats TCP 8443"` {
		t.Fatalf("show: %s", got)
	}
	for _, bad := range []struct {
		program string
		port    int
	}{{"", 0}, {"", 70000}, {`C:\a"b.exe`, 7443}} {
		if _, err := AddArgs(bad.program, bad.port); err == nil {
			t.Errorf("AddArgs(%q, %d) accepted", bad.program, bad.port)
		}
	}
}

// Off Windows Tsunagu manages no firewall and says so.
func TestNotNeededOffWindows(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("SKIPPED: Windows adds the rule for real")
	}
	if err := Allow(context.Background(), "", 7443); !errors.Is(err, ErrNotNeeded) {
		t.Fatalf("Allow: %v", err)
	}
	if _, err := Exists(context.Background(), 7443); !errors.Is(err, ErrNotNeeded) {
		t.Fatalf("Exists: %v", err)
	}
}

func TestDeleteArgs(t *testing.T) {
	if got := CommandLine(DeleteArgs(7443)); got != `advfirewall firewall delete rule name="Tsunagu seats TCP 7443"` {
		t.Fatalf("delete: %s", got)
	}
}
