// Package crashtest runs a test binary again as a child process and kills
// it with SIGKILL, so that a test can check what a crash leaves behind: no
// deferred code, no rollback and no flush runs in a process killed so.
//
// A child dies either at a failpoint it passes itself (Failpoint, driven by
// a Chain of kills from the parent) or where the parent kills it (Start and
// Child.Kill, once the child says it has reached the place). What the child
// does, and what the parent checks afterwards, stay in the feature's test.
//
// Import it from _test.go files only.
package crashtest

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"sync/atomic"
	"syscall"
	"testing"
)

// The environment that makes a process a child and tells it where to die.
const (
	childEnv  = "TSUNAGU_CRASHTEST_CHILD"
	pointEnv  = "TSUNAGU_CRASHTEST_POINT"
	atEnv     = "TSUNAGU_CRASHTEST_AT"
	varPrefix = "TSUNAGU_CRASHTEST_VAR_"
)

// Main is the body of TestMain in a package with crash tests: in a child
// it runs child and exits with the status child returns; otherwise it runs
// the tests.
func Main(m *testing.M, child func() int) {
	if IsChild() {
		os.Exit(child())
	}
	os.Exit(m.Run())
}

// IsChild reports whether this process is a child started by this package
// (for a TestMain that has other modes besides).
func IsChild() bool { return os.Getenv(childEnv) == "1" }

// Vars are the values a parent hands its children: paths, keys, addresses
// of the servers it runs. A child reads them with Var.
type Vars map[string]string

// Var returns the value the parent passed under name ("" if none).
func Var(name string) string { return os.Getenv(varPrefix + name) }

// Fail reports a child's error on its standard error, which the parent
// shows when the child fails, and returns the child's exit status.
func Fail(err error) int {
	fmt.Fprintln(os.Stderr, "child:", err)
	return 2
}

// Failpoint returns the child's failpoint hook: it kills the process the
// At-th time the point of the child's Kill is passed, and does nothing in a
// child given no Kill. It is safe for concurrent use.
func Failpoint() func(name string) {
	point := os.Getenv(pointEnv)
	at, _ := strconv.Atoi(os.Getenv(atEnv))
	var hits atomic.Int64
	return func(name string) {
		if point != "" && name == point && hits.Add(1) == int64(at) {
			syscall.Kill(os.Getpid(), syscall.SIGKILL)
			select {} // the signal is on its way; never return into the send
		}
	}
}

// Kill names where a child dies: the At-th time it passes Point.
type Kill struct {
	Point string
	At    int
}

// Chain is a series of children that work on the same state one after the
// other, each resuming what the one before left, until one finishes.
type Chain struct {
	Vars  Vars
	Kills []Kill // child i is given Kills[i]
	// Restarts is how many children may run without a Kill after the
	// chain; the work must have finished by then (at least 1).
	Restarts int
	// OnKill, if set, is called after the child of step i was killed.
	OnKill func(step int)
}

// Run runs the children until one exits with status 0 and returns the
// steps whose child was killed. A child that reaches no failpoint may
// finish the work early: Run stops there, and the caller sees that its
// step is missing from the kills. A child that fails otherwise, or work
// that does not finish, fails t.
func (c Chain) Run(t testing.TB) (killed []int) {
	t.Helper()
	restarts := max(c.Restarts, 1)
	for i := 0; ; i++ {
		if i >= len(c.Kills)+restarts {
			t.Fatalf("the work did not finish in %d children (kills at steps %v)", i, killed)
		}
		env := environ(c.Vars)
		if i < len(c.Kills) {
			env = append(env, pointEnv+"="+c.Kills[i].Point, atEnv+"="+strconv.Itoa(c.Kills[i].At))
		}
		cmd := command(env)
		out, err := cmd.CombinedOutput()
		if err == nil {
			return killed
		}
		if diedOfKill(cmd) {
			killed = append(killed, i)
			if c.OnKill != nil {
				c.OnKill(i)
			}
			continue
		}
		t.Fatalf("child %d: %v\n%s", i, err, out)
	}
}

// Child is a child that the parent kills itself, once the child has said
// (on its standard output) that it has reached the place to die.
type Child struct {
	cmd *exec.Cmd
	out *bufio.Reader
}

// Start starts a child with vars. A child still running when the test
// ends is killed then.
func Start(t testing.TB, vars Vars) *Child {
	t.Helper()
	cmd := command(environ(vars))
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	return &Child{cmd: cmd, out: bufio.NewReader(out)}
}

// ReadLine returns the next line the child printed, without its newline.
func (c *Child) ReadLine() (string, error) {
	line, err := c.out.ReadString('\n')
	if err == io.EOF && line != "" {
		err = io.ErrUnexpectedEOF
	}
	if n := len(line); n > 0 && line[n-1] == '\n' {
		line = line[:n-1]
	}
	return line, err
}

// Kill kills the child with SIGKILL, waits for it, and fails t unless it
// died of that signal (rather than finishing first).
func (c *Child) Kill(t testing.TB) {
	t.Helper()
	if err := c.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	err := c.cmd.Wait()
	if !diedOfKill(c.cmd) {
		t.Fatalf("child was not killed: %v", err)
	}
}

// command runs this test binary again with no test selected: the child's
// work is done by the TestMain (see Main).
func command(env []string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = env
	return cmd
}

func environ(vars Vars) []string {
	env := append(os.Environ(), childEnv+"=1")
	for k, v := range vars {
		env = append(env, varPrefix+k+"="+v)
	}
	return env
}

func diedOfKill(cmd *exec.Cmd) bool {
	if cmd.ProcessState == nil {
		return false
	}
	ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus)
	return ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL
}
