package crashtest_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"tsunagu/internal/testsupport/crashtest"
)

func TestMain(m *testing.M) { crashtest.Main(m, child) }

// child counts to 5 in a file, one line a step, passing the failpoint
// "step" before each; it resumes from what the file holds. In "wait" mode
// it says READY and waits to be killed.
func child() int {
	if crashtest.Var("MODE") == "wait" {
		fmt.Println("READY")
		time.Sleep(time.Minute)
		return 0
	}
	path := crashtest.Var("FILE")
	b, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		return crashtest.Fail(err)
	}
	done := strings.Count(string(b), "\n")
	fail := crashtest.Failpoint()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		return crashtest.Fail(err)
	}
	defer f.Close()
	for n := done + 1; n <= 5; n++ {
		fail("step")
		if _, err := fmt.Fprintln(f, n); err != nil {
			return crashtest.Fail(err)
		}
	}
	if crashtest.Var("FAIL") != "" {
		return crashtest.Fail(fmt.Errorf("asked to fail"))
	}
	return 0
}

func TestChain(t *testing.T) {
	for _, tt := range []struct {
		name       string
		kills      []crashtest.Kill
		wantKilled []int
		wantLines  string
	}{
		// Dies before writing 2, then before writing 3 (the 1st step of
		// the resumed child), then finishes.
		{"each kill resumes", []crashtest.Kill{{"step", 2}, {"step", 1}}, []int{0, 1}, "1\n2\n3\n4\n5\n"},
		// The second child never passes the point a 9th time: it finishes
		// the work early and the chain stops there.
		{"unreached point", []crashtest.Kill{{"step", 3}, {"step", 9}, {"step", 1}}, []int{0}, "1\n2\n3\n4\n5\n"},
		{"other point", []crashtest.Kill{{"elsewhere", 1}}, nil, "1\n2\n3\n4\n5\n"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "count")
			var onKill []int
			killed := crashtest.Chain{Vars: crashtest.Vars{"FILE": file}, Kills: tt.kills, Restarts: 1,
				OnKill: func(i int) { onKill = append(onKill, i) }}.Run(t)
			if !slices.Equal(killed, tt.wantKilled) || !slices.Equal(onKill, tt.wantKilled) {
				t.Errorf("killed %v, OnKill %v; want %v", killed, onKill, tt.wantKilled)
			}
			if b, _ := os.ReadFile(file); string(b) != tt.wantLines {
				t.Errorf("file %q, want %q", b, tt.wantLines)
			}
		})
	}
}

// TestChainFailsOnAFailingChild checks that Run fails the test when a
// child fails rather than dies: it runs such a chain in another run of
// this test binary and reads that run's verdict.
func TestChainFailsOnAFailingChild(t *testing.T) {
	if os.Getenv("CRASHTEST_SELFTEST") == "1" {
		file := filepath.Join(t.TempDir(), "count")
		crashtest.Chain{Vars: crashtest.Vars{"FILE": file, "FAIL": "1"}, Restarts: 1}.Run(t)
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestChainFailsOnAFailingChild$")
	cmd.Env = append(os.Environ(), "CRASHTEST_SELFTEST=1")
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "child: asked to fail") {
		t.Fatalf("the chain did not fail the test: %v\n%s", err, out)
	}
}

func TestStartAndKill(t *testing.T) {
	c := crashtest.Start(t, crashtest.Vars{"MODE": "wait"})
	line, err := c.ReadLine()
	if err != nil || line != "READY" {
		t.Fatalf("child said %q, %v", line, err)
	}
	c.Kill(t)
}
