package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"tsunagu/internal/backup"
	"tsunagu/internal/engine"
	"tsunagu/internal/relay"
	"tsunagu/internal/relay/relaytest"
	"tsunagu/internal/secrets/secretstest"
)

// movableClock is a clock a test moves on.
type movableClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *movableClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *movableClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func backupsIn(t *testing.T, dir string) []string {
	t.Helper()
	names, err := backup.List(dir)
	if err != nil {
		t.Fatal(err)
	}
	return names
}

// The CLI and the window share one backup service and one schedule: a
// backup made with `tsunagu-cli backup create` counts for the schedule (no
// second backup the same day), and `tsunagu-cli sync --once` makes the
// scheduled backup once it is due.
func TestCLIBackupAndScheduleAgree(t *testing.T) {
	kr := secretstest.Keyring(t)
	dir := filepath.Join(t.TempDir(), "data")
	ctx := context.Background()
	clk := &movableClock{t: time.Now()}

	hs := relaytest.Start(t, relay.Config{})
	code := hs.Tenant(t, "本店")
	if r := cli(t, kr, "", "init", "--data-dir", dir); r.code != 0 {
		t.Fatalf("init: %+v", r)
	}
	if r := cli(t, kr, "8c570fa6dd201bb328f1c1eac23a96d8\nschedule-cli-test-access-token-0123456789\n", "channel", "set", "--data-dir", dir); r.code != 0 {
		t.Fatalf("channel set: %+v", r)
	}
	if r := cli(t, kr, code+"\n", "relay", "enroll", "--relay", hs.URL, "--allow-http-loopback", "--data-dir", dir); r.code != 0 {
		t.Fatalf("enroll: %+v", r)
	}

	// A backup from the command line, into the configured folder.
	folder := filepath.Join(dir, "backups")
	if r := cli(t, kr, "", "backup", "create", folder, "--data-dir", dir); r.code != 0 {
		t.Fatalf("backup create: %+v", r)
	}
	first := backupsIn(t, folder)
	if len(first) == 0 {
		t.Fatal("no backup written")
	}

	// The desktop's schedule sees it: nothing is due an hour later.
	clk.Add(time.Hour)
	eng, err := engine.Start(ctx, engine.Options{DataDir: dir, Keyring: kr, Clock: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	if s, err := eng.Backups().Settings(ctx); err != nil || s.LastBackupAt == 0 {
		t.Fatalf("the CLI backup is not recorded: %+v %v", s, err)
	}
	eng.RunScheduledWork(ctx)
	if got := backupsIn(t, folder); len(got) != len(first) {
		t.Fatalf("the schedule made another backup an hour after the CLI's: %v", got)
	}
	eng.Close()

	// A day later, `sync --once` (as run by the task scheduler) makes it.
	clk.Add(24 * time.Hour)
	var out, errb bytes.Buffer
	rc := run(ctx, []string{"sync", "--once", "--data-dir", dir}, env{stdin: strings.NewReader(""), stdout: &out, stderr: &errb, keyring: kr, clock: clk.Now})
	if rc != 0 {
		t.Fatalf("sync --once: %d %s %s", rc, out.String(), errb.String())
	}
	if got := backupsIn(t, folder); len(got) != len(first)+1 {
		t.Fatalf("sync --once made no scheduled backup a day later: %v", got)
	}
	eng, err = engine.Open(ctx, dir, kr)
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	var n int
	eng.DB().Reader().QueryRow(`SELECT count(*) FROM audit_log WHERE action = 'backup.create' AND actor = 'system'`).Scan(&n)
	if n != 1 {
		t.Fatalf("scheduled backups audited: %d, want 1", n)
	}
}
