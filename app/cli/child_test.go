package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"testing"
)

// Tests that need tsunagu-cli as a real, separate process (two `sync`s for
// one folder) run this test binary again as the CLI: with cliChildEnv set,
// TestMain runs the command line in it instead of the tests.
const cliChildEnv = "TSUNAGU_CLI_TEST_ARGS"

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
		os.Exit(code)
	}
	os.Exit(m.Run())
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
