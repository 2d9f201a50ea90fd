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

// TestCLISyncRunsTheSchedule: a long-running `tsunagu-cli sync` (an office
// PC that only collects) makes the scheduled backup once it is due by the
// injected clock, audited as the system, without waiting for the first
// tick of the schedule.
func TestCLISyncRunsTheSchedule(t *testing.T) {
	kr := secretstest.Keyring(t)
	dir := filepath.Join(t.TempDir(), "data")
	clk := &movableClock{t: time.Now()}
	hs := relaytest.Start(t, relay.Config{})
	code := hs.Tenant(t, "本店")
	for _, step := range []struct {
		stdin string
		args  []string
	}{
		{"", []string{"init"}},
		{"8c570fa6dd201bb328f1c1eac23a96d8\nsync-schedule-test-access-token-0123456789\n", []string{"channel", "set"}},
		{code + "\n", []string{"relay", "enroll", "--relay", hs.URL, "--allow-http-loopback"}},
	} {
		if r := cli(t, kr, step.stdin, append(step.args, "--data-dir", dir)...); r.code != 0 {
			t.Fatalf("%v: %+v", step.args, r)
		}
	}
	folder := filepath.Join(dir, "backups")
	if r := cli(t, kr, "", "backup", "create", folder, "--data-dir", dir); r.code != 0 {
		t.Fatalf("backup create: %+v", r)
	}
	// The CLI's backup is "now" by the real clock; by the injected one a
	// day has passed when `sync` starts.
	clk.Add(25 * time.Hour)
	ctx, cancel := context.WithCancel(context.Background())
	var out, errb syncBuffer
	done := make(chan int)
	go func() {
		done <- run(ctx, []string{"sync", "--data-dir", dir}, env{stdin: strings.NewReader(""), stdout: &out, stderr: &errb, keyring: kr, clock: clk.Now})
	}()
	deadline := time.Now().Add(20 * time.Second)
	for len(backupsIn(t, folder)) < 2 {
		if time.Now().After(deadline) {
			cancel()
			<-done
			t.Fatalf("sync made no scheduled backup: %s", errb.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	cancel()
	<-done
	eng, err := engine.Open(context.Background(), dir, kr)
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

// syncBuffer is a bytes.Buffer safe for the command's goroutine and the
// test reading it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }
