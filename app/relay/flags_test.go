package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// TestClickFlagsRefusedBeforeServing: the tracked-link flags are checked
// before anything starts: a link cap under a day and a non-positive tenant
// click rate are usage errors (exit 2) that say which flag.
func TestClickFlagsRefusedBeforeServing(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--link-max-ttl", "1h"}, "--link-max-ttl"},
		{[]string{"--click-rate", "0"}, "--click-rate"},
		{[]string{"--click-rate-per-client", "-1"}, "--click-rate-per-client"},
		{[]string{"--click-burst-per-client", "0"}, "burst"},
	} {
		var out, errb bytes.Buffer
		args := append([]string{"serve", "--behind-proxy", "--listen", "127.0.0.1:0", "--data-dir", t.TempDir()}, tc.args...)
		if code := run(context.Background(), args, &out, &errb); code != 2 || !strings.Contains(errb.String(), tc.want) {
			t.Fatalf("%v: exit %d, %q", tc.args, code, errb.String())
		}
	}
}
