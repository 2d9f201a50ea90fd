package backup

import (
	"context"
	"fmt"

	"tsunagu/internal/recovery"
	"tsunagu/internal/secrets"
)

// KeyFor finds the key of the backup at file (manifest m): this keychain's
// key of the install the backup came from, current or previous (after a
// rotation), matched by fingerprint; else the key unwrapped from the
// recovery file kept next to the backup with the recovery code. code is
// called only then: a person may have to type it.
func KeyFor(ctx context.Context, kr secrets.Keyring, file string, m Manifest, code func() (string, error)) ([]byte, error) {
	if m.InstallID != "" {
		src := secrets.New(kr, m.InstallID)
		for _, item := range []secrets.Item{secrets.ItemDBKey, secrets.ItemDBKeyPrevious} {
			if k, err := src.KeyOf(ctx, item); err == nil && recovery.KeyID(k) == m.KeyID {
				return k, nil
			}
		}
	}
	rf, err := recovery.Load(RecoveryFileFor(file, m.KeyID))
	if err != nil {
		return nil, fmt.Errorf("the backup's key is not in this keychain and %w", err)
	}
	c, err := code()
	if err != nil {
		return nil, err
	}
	return rf.Unwrap(c)
}

// Check verifies the backup at file against its manifest with its key (see
// KeyFor).
func Check(ctx context.Context, kr secrets.Keyring, file string, code func() (string, error)) (Manifest, error) {
	m, err := ReadManifest(file)
	if err != nil {
		return Manifest{}, err
	}
	key, err := KeyFor(ctx, kr, file, m, code)
	if err != nil {
		return Manifest{}, err
	}
	defer clear(key)
	return Verify(ctx, file, key)
}
