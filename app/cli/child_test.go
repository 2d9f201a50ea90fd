package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"testing"
)

// Tests that need tsunagu-cli as a real, separate process (two `sync`s for
// one folder, the memory of a hostile import) run this test binary again as
// the CLI: with cliChildEnv set, TestMain runs the command line in it
// instead of the tests.
const (
	cliChildEnv = "TSUNAGU_CLI_TEST_ARGS"
	// cliPeakRSSEnv names a file the child writes its peak RSS to (kB).
	cliPeakRSSEnv = "TSUNAGU_CLI_TEST_HWM"
)

func TestMain(m *testing.M) {
	if js := os.Getenv(cliChildEnv); js != "" {
		var args []string
		if err := json.Unmarshal([]byte(js), &args); err != nil {
			fmt.Fprintln(os.Stderr, "child args:", err)
			os.Exit(2)
		}
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
		code := run(ctx, args, env{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr})
		stop()
		if f := os.Getenv(cliPeakRSSEnv); f != "" {
			writePeakRSS(f)
		}
		os.Exit(code)
	}
	os.Exit(m.Run())
}

// writePeakRSS writes the process's own peak RSS (VmHWM, reset by exec;
// rusage's maxrss is not: it keeps the forking test process's) to file.
func writePeakRSS(file string) {
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return
	}
	for _, l := range strings.Split(string(status), "\n") {
		if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			os.WriteFile(file, []byte(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB"))), 0o600)
		}
	}
}

// cliProcess is `tsunagu-cli ARGS` as a child process (OS keychain: the
// test's keyring session is inherited). Standard error is merged into
// standard output.
func cliProcess(t *testing.T, args ...string) *exec.Cmd {
	t.Helper()
	js, err := json.Marshal(args)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), cliChildEnv+"="+string(js))
	return cmd
}
