// Package secretstest gives tests a keychain: an in-memory one where the
// keychain is not the subject (Keyring), the real OS keychain where it is
// (RealKeyring; `make test` provides it through .ci/keyring-session, a
// private D-Bus session with an unlocked gnome-keyring).
package secretstest

import (
	"os"
	"testing"

	"tsunagu/internal/datadir"
	"tsunagu/internal/secrets"
)

// Env is set to 1 by .ci/keyring-session.
const Env = "TSUNAGU_REAL_KEYRING"

// Keyring returns the keychain for a test whose subject is not the
// keychain itself: an in-memory one, so the test runs everywhere (a plain
// `go test ./...` too) and never touches a developer's login keyring.
func Keyring(t testing.TB) secrets.Keyring {
	t.Helper()
	return MemKeyring()
}

// RealKeyring returns the OS keychain, for tests whose subject is the
// keychain (or that share it with a child process). Outside a keyring
// session the test is skipped, saying so; under `make test` it runs.
func RealKeyring(t testing.TB) secrets.Keyring {
	t.Helper()
	if os.Getenv(Env) != "1" {
		t.Skip("SKIPPED: needs the real OS keychain; run under .ci/keyring-session (make test does)")
	}
	return secrets.OSKeyring()
}

// CleanupDataDir removes, when the test ends, every keychain item of the
// install whose data folder is dir.
func CleanupDataDir(t testing.TB, kr secrets.Keyring, dir string) {
	t.Helper()
	t.Cleanup(func() {
		d, err := datadir.Existing(dir)
		if err != nil {
			return
		}
		id, err := d.ReadInstallID()
		if err != nil {
			return
		}
		for _, it := range []secrets.Item{secrets.ItemDBKey, secrets.ItemChannelSecret, secrets.ItemChannelToken, secrets.ItemDBKeyNext, secrets.ItemDBKeyPrevious, secrets.ItemRelayBoxKey, secrets.ItemRelayAuthKey, secrets.ItemPrimaryTLSKey, secrets.ItemSeatKey} {
			kr.Delete(secrets.Service, id+"/"+string(it))
		}
	})
}
