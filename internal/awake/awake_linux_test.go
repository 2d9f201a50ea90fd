package awake

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The Linux block runs systemd-inhibit for as long as it is held. This
// machine has no logind to ask, so a stand-in on PATH records its
// arguments and stays alive like the real one; the real command's flags
// are the ones checked.
func TestLinuxBlockerRunsInhibitWhileHeld(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "args")
	script := "#!/bin/sh\necho \"$$ $*\" > " + out + ".tmp && mv " + out + ".tmp " + out + "\nexec sleep 1000\n"
	if err := os.WriteFile(filepath.Join(dir, "fake-inhibit"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))

	k := New(linuxBlocker("fake-inhibit"), nil)
	k.Hold()
	if !k.Held() {
		t.Fatal("not held")
	}
	var line string
	for deadline := time.Now().Add(30 * time.Second); ; {
		b, err := os.ReadFile(out)
		if err == nil {
			line = strings.TrimSpace(string(b))
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the inhibitor never started")
		}
		time.Sleep(20 * time.Millisecond)
	}
	pidStr, args, _ := strings.Cut(line, " ")
	if want := "--what=sleep:idle --who=Tsunagu --why=" + Reason + " --mode=block sleep infinity"; args != want {
		t.Errorf("args %q, want %q", args, want)
	}
	pid, _ := strconv.Atoi(pidStr)
	if err := syscall.Kill(pid, 0); err != nil {
		t.Fatalf("the inhibitor is not running while held: %v", err)
	}
	k.Release()
	if k.Held() {
		t.Fatal("held after the last seat left")
	}
	// release waits for the process: it is gone (reaped) now.
	if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
		t.Errorf("the inhibitor still runs after release: %v", err)
	}
}

func TestLinuxBlockerMissingCommand(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	if _, err := linuxBlocker("systemd-inhibit").Block(Reason); !errors.Is(err, ErrUnsupported) {
		t.Errorf("without systemd-inhibit: %v, want ErrUnsupported", err)
	}
}
