package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"tsunagu/internal/audit"
	"tsunagu/internal/customer"
	"tsunagu/internal/datadir"
	"tsunagu/internal/engine"
	"tsunagu/internal/importer"
	"tsunagu/internal/secrets"
	"tsunagu/internal/secrets/secretstest"
)

// TestCLIImportHostileFiles (issue 22 item 2): a 2 GB customer file with no
// line breaks fails within seconds in a real CLI process, with peak RSS far
// below 200 MB, the documented exit code 1 (not 2, usage, nor a Go
// runtime crash) and a message naming the line and the bound; the failed
// attempt is audited. A CR-only file imports row by row.
func TestCLIImportHostileFiles(t *testing.T) {
	kr := secretstest.RealKeyring(t) // the CLI child process shares it
	dir := filepath.Join(t.TempDir(), "data")
	secretstest.CleanupDataDir(t, kr, dir)
	if r := cli(t, kr, "", "init", "--data-dir", dir); r.code != 0 {
		t.Fatalf("init: %+v", r)
	}
	files := t.TempDir()

	// A real 2 GB file: a header, 4 MB of rows without a single line
	// break, then extended to 2 GB (the rest reads as NUL bytes, which are
	// no line breaks either) without writing it all.
	huge := filepath.Join(files, "huge.csv")
	f, err := os.Create(huge)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	b.WriteString("顧客番号,氏名,住所\n")
	for b.Len() < 4<<20 {
		b.WriteString("0001,山田 太郎,東京都千代田区,")
	}
	if _, err := f.Write(b.Bytes()); err != nil {
		t.Fatal(err)
	}
	const size = 2 << 30
	if err := f.Truncate(size); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if st, err := os.Stat(huge); err != nil || st.Size() != size {
		t.Fatalf("file: %v %v", st, err)
	}

	start := time.Now()
	cmd := cliProcess(t, "import", huge, "--data-dir", dir)
	hwm := filepath.Join(files, "hwm")
	cmd.Env = append(cmd.Env, cliPeakRSSEnv+"="+hwm)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err = cmd.Run()
	elapsed := time.Since(start)
	code := cmd.ProcessState.ExitCode()
	kb, _ := os.ReadFile(hwm)
	rssKB, perr := strconv.Atoi(string(kb))
	if perr != nil {
		t.Fatalf("peak RSS of the child: %q %v", kb, perr)
	}
	rssMB := float64(rssKB) / 1024
	t.Logf("2 GB without line breaks: exit %d after %s, peak RSS %.0f MB: %s", code, elapsed.Round(time.Millisecond), rssMB, strings.TrimSpace(stderr.String()))
	if code != 1 || err == nil {
		t.Errorf("exit %d (%v), want 1", code, err)
	}
	if msg := stderr.String(); !strings.Contains(msg, "line 2 is longer than 1 MiB") || strings.Contains(msg, "goroutine") || strings.Contains(msg, "fatal error") {
		t.Errorf("stderr: %s", msg)
	}
	if rssMB >= 200 {
		t.Errorf("peak RSS %.0f MB, want < 200", rssMB)
	}
	// A hang guard, not a speed target: the file is refused at its first
	// MiB, where reading all 2 GB used to take minutes and 9 GB.
	if elapsed > time.Minute {
		t.Errorf("took %s", elapsed)
	}

	// CR-only (old Excel for Mac) imports row by row.
	cr := filepath.Join(files, "cr.csv")
	os.WriteFile(cr, []byte("顧客番号,氏名\rC001,山田 太郎\rC002,佐藤 花子\r"), 0o600)
	if r := cli(t, kr, "", "import", cr, "--data-dir", dir); r.code != 0 || !strings.Contains(r.stdout, "new:        2") {
		t.Errorf("CR-only import: %+v", r)
	}

	// An unbalanced quote: exit 3 with the line, the rows after it imported.
	q := filepath.Join(files, "quote.csv")
	report := filepath.Join(files, "report.csv")
	os.WriteFile(q, []byte("顧客番号,氏名,住所\nQ001,山田,\"東京都\nQ002,佐藤,大阪府\nQ003,鈴木,京都府\n"), 0o600)
	if r := cli(t, kr, "", "import", q, "--data-dir", dir, "--report", report); r.code != exitRejected || !strings.Contains(r.stdout, "new:        2") {
		t.Errorf("unbalanced quote: %+v", r)
	}
	if rep, _ := os.ReadFile(report); !strings.Contains(string(rep), "2,,,,quote,") {
		t.Errorf("report:\n%s", rep)
	}

	// The failed attempt is on the audit trail, with its reason and line.
	entries := auditEntries(t, kr, dir, importer.ActionImportFailed)
	if len(entries) != 1 || entries[0].Detail["reason"] != importer.FailureUnreadable || entries[0].Detail["line"] != "2" || entries[0].Detail["file"] != "huge.csv" {
		t.Errorf("import.failed entries: %+v", entries)
	}
}

// TestCLICustomersListAudited: `customers list` prints customers in full,
// so every run is on the audit trail, without the search text.
func TestCLICustomersListAudited(t *testing.T) {
	kr := secretstest.Keyring(t)
	dir := filepath.Join(t.TempDir(), "data")
	secretstest.CleanupDataDir(t, kr, dir)
	if r := cli(t, kr, "", "init", "--data-dir", dir); r.code != 0 {
		t.Fatalf("init: %+v", r)
	}
	src := filepath.Join(t.TempDir(), "c.csv")
	os.WriteFile(src, []byte("顧客番号,氏名,店番\nL001,山田 太郎,001\nL002,佐藤 花子,002\n"), 0o600)
	if r := cli(t, kr, "", "import", src, "--data-dir", dir); r.code != 0 {
		t.Fatalf("import: %+v", r)
	}
	if r := cli(t, kr, "", "customers", "list", "--data-dir", dir, "--query", "山田", "--branch", "001"); r.code != 0 || !strings.Contains(r.stdout, "L001") {
		t.Fatalf("list: %+v", r)
	}
	entries := auditEntries(t, kr, dir, customer.ActionList)
	if len(entries) != 1 {
		t.Fatalf("customer.list entries: %+v", entries)
	}
	e := entries[0]
	if e.Actor == "" || e.Detail["shown"] != "1" || e.Detail["query"] != "true" || e.Detail["branch"] != "001" {
		t.Errorf("entry %+v", e)
	}
	for _, v := range e.Detail {
		if strings.Contains(v, "山田") {
			t.Errorf("entry holds the search text: %+v", e)
		}
	}
}

func auditEntries(t *testing.T, kr secrets.Keyring, dir, action string) []audit.Entry {
	t.Helper()
	ctx := context.Background()
	if _, err := datadir.Existing(dir); err != nil {
		t.Fatal(err)
	}
	eng, err := engine.Open(ctx, dir, kr)
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	got, err := audit.List(ctx, eng.DB().Reader(), audit.Filter{Action: action})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// cancelOn is a stderr that cancels when the CLI prints text.
type cancelOn struct {
	bytes.Buffer
	text   string
	cancel context.CancelFunc
}

func (c *cancelOn) Write(p []byte) (int, error) {
	n, err := c.Buffer.Write(p)
	if strings.Contains(c.String(), c.text) {
		c.cancel()
	}
	return n, err
}

// TestCLIImportCancelDuringMissing: Ctrl+C while the import looks for the
// customers missing from the file exits 4 (cancelled, nothing written), not
// 1 with "sqlite3: interrupted".
func TestCLIImportCancelDuringMissing(t *testing.T) {
	kr := secretstest.Keyring(t)
	dir := filepath.Join(t.TempDir(), "data")
	secretstest.CleanupDataDir(t, kr, dir)
	if r := cli(t, kr, "", "init", "--data-dir", dir); r.code != 0 {
		t.Fatalf("init: %+v", r)
	}
	files := t.TempDir()
	first := filepath.Join(files, "first.csv")
	os.WriteFile(first, []byte("顧客番号,氏名\nM001,山田\nM002,佐藤\n"), 0o600)
	if r := cli(t, kr, "", "import", first, "--data-dir", dir); r.code != 0 {
		t.Fatalf("import: %+v", r)
	}
	second := filepath.Join(files, "second.csv")
	os.WriteFile(second, []byte("顧客番号,氏名\nM003,鈴木\n"), 0o600)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stderr := &cancelOn{text: "checking for customers not in the file", cancel: cancel}
	var stdout bytes.Buffer
	code := run(ctx, []string{"import", second, "--data-dir", dir, "--missing", "inactivate"}, env{stdin: strings.NewReader(""), stdout: &stdout, stderr: stderr, keyring: kr})
	if code != exitCancelled || !strings.Contains(stderr.String(), "cancelled: nothing was written") || strings.Contains(stderr.String(), "interrupted") {
		t.Errorf("exit %d, stderr %q", code, stderr.String())
	}
	if r := cli(t, kr, "", "customers", "list", "--data-dir", dir, "--status", "active", "--json"); !strings.Contains(r.stdout, `"total": 2`) || strings.Contains(r.stdout, "M003") {
		t.Errorf("after the cancelled import: %+v", r)
	}
	if e := auditEntries(t, kr, dir, importer.ActionImportFailed); len(e) != 1 || e[0].Detail["reason"] != importer.FailureCancelled {
		t.Errorf("import.failed entries: %+v", e)
	}
}
