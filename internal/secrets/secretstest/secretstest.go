// Package secretstest gives end-to-end tests the real OS keychain, which
// `make test` provides through .ci/keyring-session (a private D-Bus session
// with an unlocked gnome-keyring).
package secretstest

import (
	"os"
	"testing"

	"tsunagu/internal/datadir"
	"tsunagu/internal/secrets"
)

// Env is set to 1 by .ci/keyring-session.
const Env = "TSUNAGU_REAL_KEYRING"

// Keyring returns the OS keychain, or skips the test outside a keyring
// session.
func Keyring(t testing.TB) secrets.Keyring {
	t.Helper()
	if os.Getenv(Env) != "1" {
		t.Skip("needs the real keychain: run under .ci/keyring-session (make test does)")
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
		for _, it := range []secrets.Item{secrets.ItemDBKey, secrets.ItemChannelSecret, secrets.ItemChannelToken, secrets.ItemDBKeyNext, secrets.ItemDBKeyPrevious, secrets.ItemRelayBoxKey, secrets.ItemRelayAuthKey} {
			kr.Delete(secrets.Service, id+"/"+string(it))
		}
	})
}
