package engine

import (
	"context"
	"errors"
	"fmt"
	"os"

	"tsunagu/internal/audit"
	"tsunagu/internal/backup"
	"tsunagu/internal/datadir"
	"tsunagu/internal/keyrotate"
	"tsunagu/internal/recovery"
	"tsunagu/internal/secrets"
	"tsunagu/internal/store"
)

// Restoring and re-keying a data folder: done with the database closed, so
// these open the folder themselves. Record what they did with the restored
// folder's Backups() once it is open (the actor signs in against it).

// ErrKeyPresent: the keychain already holds a database key for this data
// folder (or the database is open): there is nothing to restore, and a
// restore never overwrites a key.
var ErrKeyPresent = errors.New("the database key is already in the keychain")

// ErrNotEmpty: a backup is restored only into a folder without a database.
var ErrNotEmpty = errors.New("the data folder already has a database: restore into a new, empty data folder")

// RestoreBackup restores the backup at file into the data folder dataDir,
// which must not hold a database yet. Its key comes from this keychain or
// the recovery code (code is asked only then; see backup.KeyFor) and is
// stored in this keychain under the folder's install; the recovery file of
// that key is kept in the folder, so the same printed code keeps working.
// Then record it: Backups().RecordRestore.
func RestoreBackup(ctx context.Context, dataDir string, kr secrets.Keyring, file string, code func() (string, error)) (backup.Manifest, error) {
	m, err := backup.ReadManifest(file)
	if err != nil {
		return backup.Manifest{}, err
	}
	if _, err := os.Stat(datadir.Dir{Path: dataDir}.DBPath()); err == nil {
		return backup.Manifest{}, fmt.Errorf("%s: %w", dataDir, ErrNotEmpty)
	}
	key, err := backup.KeyFor(ctx, kr, file, m, code)
	if err != nil {
		return backup.Manifest{}, err
	}
	defer clear(key)
	dir, err := datadir.Ensure(dataDir)
	if err != nil {
		return backup.Manifest{}, err
	}
	id, err := dir.InstallID()
	if err != nil {
		return backup.Manifest{}, err
	}
	if _, err := backup.Restore(ctx, file, key, dir.DBPath()); err != nil {
		return backup.Manifest{}, err
	}
	if err := secrets.New(kr, id).ImportDBKey(ctx, key); err != nil {
		return m, fmt.Errorf("the database was restored but its key could not be stored in the keychain (restore it with the recovery code): %w", err)
	}
	if rf, err := recovery.Load(backup.RecoveryFileFor(file, m.KeyID)); err == nil {
		if err := recovery.Save(dir.File(recovery.FileName), rf); err != nil {
			return m, err
		}
	}
	return m, nil
}

// RestoreKey puts the DB key of the data folder back into this keychain
// from the recovery code and the folder's recovery.json (a new PC, a lost
// keychain), once it is checked to open the database. It returns the key's
// fingerprint; then record it: Backups().RecordKeyRestored.
func RestoreKey(ctx context.Context, dataDir string, kr secrets.Keyring, code func() (string, error)) (string, error) {
	dir, err := datadir.Existing(dataDir)
	if err != nil {
		return "", err
	}
	id, err := dir.ReadInstallID()
	if err != nil {
		return "", err
	}
	rf, err := recovery.Load(dir.File(recovery.FileName))
	if err != nil {
		return "", err
	}
	c, err := code()
	if err != nil {
		return "", err
	}
	key, err := rf.Unwrap(c)
	if err != nil {
		return "", err
	}
	defer clear(key)
	rep, err := store.Verify(ctx, dir.DBPath(), key)
	if err != nil {
		return "", err
	}
	if !rep.OpensWithKey {
		return "", store.ErrWrongKey
	}
	if err := secrets.New(kr, id).ImportDBKey(ctx, key); err != nil {
		if errors.Is(err, secrets.ErrExists) {
			return "", fmt.Errorf("%w: %w", ErrKeyPresent, err)
		}
		return "", err
	}
	return rf.KeyID, nil
}

// RecoverKey is RestoreKey for the window's recovery screen, where nobody
// can sign in (the staff table is in the closed database): the recovery
// code is the credential. Once the database opens with the restored key,
// the restore is recorded (recovery.restore) in the name of actor. kr nil:
// the OS keychain.
func RecoverKey(ctx context.Context, dataDir string, kr secrets.Keyring, code, actor string) (string, error) {
	if kr == nil {
		kr = secrets.OSKeyring()
	}
	keyID, err := RestoreKey(ctx, dataDir, kr, func() (string, error) { return code, nil })
	if err != nil {
		return "", err
	}
	e, err := Open(ctx, dataDir, kr)
	if err != nil {
		return keyID, fmt.Errorf("open after the key restore: %w", err)
	}
	defer e.Close()
	if err := e.Backups().RecordKeyRestored(ctx, actor, keyID); err != nil {
		return keyID, fmt.Errorf("record the key restore: %w", err)
	}
	return keyID, nil
}

// Rotation is a finished key rotation and the recovery code of the new key
// (shown once).
type Rotation struct {
	keyrotate.Result
	RecoveryCode string `json:"recoveryCode"`
}

// RotateKey re-encrypts the data folder's database under a new key (no
// program may have it open), records the rotation (db.key_rotate) in the
// name of actor, and issues a recovery code for the new key: the old code
// only opens older backups. kdf as for IssueRecoveryCode.
func RotateKey(ctx context.Context, dataDir string, kr secrets.Keyring, actor string, kdf recovery.KDF) (Rotation, error) {
	dir, err := datadir.Existing(dataDir)
	if err != nil {
		return Rotation{}, err
	}
	id, err := dir.ReadInstallID()
	if err != nil {
		return Rotation{}, err
	}
	res, err := keyrotate.Rotate(ctx, dir, secrets.New(kr, id), keyrotate.Options{})
	if err != nil {
		return Rotation{}, err
	}
	e, err := Open(ctx, dataDir, kr)
	if err != nil {
		return Rotation{Result: res}, err
	}
	defer e.Close()
	if err := audit.RecordChange(ctx, e.db, audit.Entry{At: e.now().UnixMilli(), Actor: actor, Action: audit.ActionKeyRotate,
		Detail: map[string]string{"oldKeyId": res.OldKeyID, "newKeyId": res.NewKeyID}}); err != nil {
		return Rotation{Result: res}, err
	}
	code, err := e.backups.IssueRecoveryCode(ctx, actor, kdf)
	if err != nil {
		return Rotation{Result: res}, err
	}
	return Rotation{Result: res, RecoveryCode: code}, nil
}
