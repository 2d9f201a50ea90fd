package engine

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"tsunagu/internal/audit"
	"tsunagu/internal/relay"
	"tsunagu/internal/relay/relaytest"
	"tsunagu/internal/relayclient"
	"tsunagu/internal/secrets"
	"tsunagu/internal/secrets/secretstest"
)

// TestChangesOutsideTheDBAreAudited: the relay enrollment, its end and the
// channel's credentials audit themselves here, for the window and the CLI
// alike, by one rule: an entry that cannot be written leaves the change
// made and fails the call (audit.ErrNotRecorded).
func TestChangesOutsideTheDBAreAudited(t *testing.T) {
	ctx := context.Background()
	kr := secretstest.Keyring(t)
	dir := filepath.Join(t.TempDir(), "data")
	if _, err := Init(ctx, dir, kr); err != nil {
		t.Fatal(err)
	}
	eng, err := Open(ctx, dir, kr)
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	entries := func(action string) []audit.Entry {
		t.Helper()
		list, err := audit.List(ctx, eng.DB().Reader(), audit.Filter{Action: action})
		if err != nil {
			t.Fatal(err)
		}
		return list
	}
	hs := relaytest.Start(t, relay.Config{})

	if _, err := eng.RelayEnroll(ctx, "staff:admin", hs.URL, "  ", relayclient.HTTPLoopback); !errors.Is(err, relayclient.ErrBadCode) {
		t.Fatalf("empty code: %v", err)
	}
	if _, err := eng.Secrets().RelayKeys(ctx); !errors.Is(err, secrets.ErrNotFound) {
		t.Fatalf("an empty code created keys: %v", err)
	}
	en, err := eng.RelayEnroll(ctx, "staff:admin", hs.URL, hs.Tenant(t, "本店"), relayclient.HTTPLoopback)
	if err != nil {
		t.Fatal(err)
	}
	if e := entries(audit.ActionRelayEnroll); len(e) != 1 || e[0].Actor != "staff:admin" || e[0].Target != en.Tenant || e[0].Detail["relay"] != en.RelayURL {
		t.Fatalf("enroll entries %+v", e)
	}
	if err := eng.RelayDisconnect(ctx, "os:clerk"); err != nil {
		t.Fatal(err)
	}
	if e := entries(audit.ActionRelayDisconnect); len(e) != 1 || e[0].Actor != "os:clerk" || e[0].Target != en.Tenant {
		t.Fatalf("disconnect entries %+v", e)
	}
	if err := eng.RelayDisconnect(ctx, "os:clerk"); !errors.Is(err, ErrRelayNotEnrolled) {
		t.Fatalf("second disconnect: %v", err)
	}
	if _, err := eng.RelaySetWebhookOnLINE(ctx, "os:clerk"); !errors.Is(err, ErrRelayNotEnrolled) {
		t.Fatalf("webhook without an enrollment: %v", err)
	}

	// The entry cannot be written (here: no actor): the enrollment is
	// made, and the call says it was not recorded.
	if _, err := eng.RelayEnroll(ctx, "", hs.URL, hs.Tenant(t, "支店"), relayclient.HTTPLoopback); !errors.Is(err, audit.ErrNotRecorded) {
		t.Fatalf("unrecorded enroll: %v", err)
	}
	if _, err := eng.RelayEnrollment(); err != nil {
		t.Fatalf("the unrecorded enrollment was not kept: %v", err)
	}

	ch := secrets.Channel{Secret: "0123456789abcdef0123456789abcdef", AccessToken: "changes-test-access-token-0123456789"}
	if err := eng.SetChannel(ctx, "staff:admin", ch); err != nil {
		t.Fatal(err)
	}
	if got, err := eng.Secrets().Channel(ctx); err != nil || got.AccessToken != ch.AccessToken {
		t.Fatalf("channel %v", err)
	}
	if err := eng.ClearChannel(ctx, "staff:admin"); err != nil {
		t.Fatal(err)
	}
	if _, err := eng.Secrets().Channel(ctx); !errors.Is(err, secrets.ErrNotFound) {
		t.Fatalf("after clear: %v", err)
	}
	if len(entries(audit.ActionChannelSet)) != 1 || len(entries(audit.ActionChannelClear)) != 1 {
		t.Fatal("channel changes not audited")
	}
	if err := eng.SetChannel(ctx, "", ch); !errors.Is(err, audit.ErrNotRecorded) {
		t.Fatalf("unrecorded channel change: %v", err)
	}
}
