package secrets

import (
	"fmt"
	"os"
	"testing"
)

// TestMain lets tests run this test binary as a child process: to produce
// real *exec.ExitError values, and to talk to a keychain with a different
// environment than the parent's.
func TestMain(m *testing.M) {
	if code := os.Getenv("TSUNAGU_SECRETS_EXIT"); code != "" {
		var n int
		fmt.Sscan(code, &n)
		os.Exit(n)
	}
	if os.Getenv(childEnv) != "" {
		os.Exit(childMain())
	}
	os.Exit(m.Run())
}
