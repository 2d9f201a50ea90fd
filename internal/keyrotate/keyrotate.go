// Package keyrotate re-encrypts the customer database under a new key
// without losing data, even if the process is killed at any point.
//
// The order of steps makes every interruption recoverable:
//
//  1. The new key is stored in the keychain (db-key-next) before anything
//     is encrypted with it, and a journal (key-rotation.json) records
//     "copying".
//  2. A copy encrypted with the new key is written next to the database
//     (tsunagu.db.rotating) with VACUUM INTO and verified. The database
//     itself is not touched.
//  3. The journal records "swapping"; the copy is renamed over the database
//     (one atomic rename).
//  4. The keychain's db-key becomes the new key (the old one is kept as
//     db-key-previous, for old backups); the journal is removed.
//
// Resume (run by engine.Open before every open) finishes or undoes an
// interrupted rotation: in "copying" the database still needs the old key,
// so the copy and the next key are discarded; in "swapping" the verified
// copy is (or already was) the database, so the rename and the key switch
// are finished. Both are idempotent.
//
// The rotation must run while nothing else has the database open
// (tsunagu-cli with the app closed): it takes SQLite's exclusive lock and
// fails if it cannot.
package keyrotate

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"time"

	"tsunagu/internal/datadir"
	"tsunagu/internal/recovery"
	"tsunagu/internal/secrets"
	"tsunagu/internal/store"
)

const (
	journalFile = "key-rotation.json"
	copySuffix  = ".rotating"
)

// Journal states.
const (
	stateCopying  = "copying"
	stateSwapping = "swapping"
)

type journal struct {
	State     string `json:"state"`
	NextKeyID string `json:"nextKeyId"`
	StartedAt int64  `json:"startedAt"`
}

// Result describes a finished rotation.
type Result struct {
	OldKeyID string `json:"oldKeyId"`
	NewKeyID string `json:"newKeyId"`
	Resumed  string `json:"resumed,omitempty"` // what Resume found before starting
}

// Options are for tests.
type Options struct {
	// Pause, if set, is called at each step ("copied", "swapping",
	// "swapped") so a test can kill the process there.
	Pause func(step string)
}

// Rotate re-encrypts the data folder's database under a new random key.
func Rotate(ctx context.Context, dir datadir.Dir, sec *secrets.Store, opts Options) (Result, error) {
	pause := opts.Pause
	if pause == nil {
		pause = func(string) {}
	}
	resumed, err := Resume(ctx, dir, sec)
	if err != nil {
		return Result{}, fmt.Errorf("finish the previous rotation: %w", err)
	}
	oldKey, err := sec.DBKey(ctx)
	if err != nil {
		return Result{}, err
	}
	defer clear(oldKey)
	newKey := make([]byte, store.KeySize)
	if _, err := rand.Read(newKey); err != nil {
		return Result{}, err
	}
	defer clear(newKey)
	res := Result{OldKeyID: recovery.KeyID(oldKey), NewKeyID: recovery.KeyID(newKey), Resumed: resumed}

	if err := sec.SetNextDBKey(ctx, newKey); err != nil {
		return res, err
	}
	if err := writeJournal(dir, journal{State: stateCopying, NextKeyID: res.NewKeyID, StartedAt: time.Now().UnixMilli()}); err != nil {
		return res, err
	}

	dbPath, copyPath := dir.DBPath(), dir.DBPath()+copySuffix
	removeFiles(copyPath)
	if err := copyExclusive(ctx, dbPath, oldKey, copyPath, newKey); err != nil {
		// Nothing changed: undo.
		removeFiles(copyPath)
		_ = sec.DropNextDBKey(context.WithoutCancel(ctx))
		_ = os.Remove(dir.File(journalFile))
		return res, err
	}
	pause("copied")
	if err := writeJournal(dir, journal{State: stateSwapping, NextKeyID: res.NewKeyID, StartedAt: time.Now().UnixMilli()}); err != nil {
		return res, err
	}
	pause("swapping")
	if err := os.Rename(copyPath, dbPath); err != nil {
		return res, fmt.Errorf("replace the database with the re-encrypted copy: %w", err)
	}
	syncDir(dir.Path)
	pause("swapped")
	if err := finish(ctx, dir, sec); err != nil {
		return res, err
	}
	return res, nil
}

// Resume finishes or undoes an interrupted rotation and says which ("" if
// there was none).
func Resume(ctx context.Context, dir datadir.Dir, sec *secrets.Store) (string, error) {
	b, err := os.ReadFile(dir.File(journalFile))
	if errors.Is(err, os.ErrNotExist) {
		// A crash between storing the next key and writing the journal
		// leaves an unused key: the database never saw it.
		if _, err := sec.KeyOf(ctx, secrets.ItemDBKeyNext); err == nil {
			return "dropped an unused next key", sec.DropNextDBKey(ctx)
		}
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("read the key rotation journal: %w", err)
	}
	var j journal
	if err := json.Unmarshal(b, &j); err != nil {
		return "", fmt.Errorf("the key rotation journal %s is malformed: %w", dir.File(journalFile), err)
	}
	copyPath := dir.DBPath() + copySuffix
	switch j.State {
	case stateCopying:
		// The database still needs the old key; the copy is discarded.
		removeFiles(copyPath)
		if err := sec.DropNextDBKey(ctx); err != nil {
			return "", err
		}
		return "rolled back an interrupted rotation", os.Remove(dir.File(journalFile))
	case stateSwapping:
		// The copy was verified before this state was written.
		if _, err := os.Stat(copyPath); err == nil {
			if err := os.Rename(copyPath, dir.DBPath()); err != nil {
				return "", fmt.Errorf("replace the database with the re-encrypted copy: %w", err)
			}
			syncDir(dir.Path)
		}
		return "finished an interrupted rotation", finish(ctx, dir, sec)
	}
	return "", fmt.Errorf("the key rotation journal has an unknown state %q", j.State)
}

// finish switches the keychain to the new key and removes the journal.
func finish(ctx context.Context, dir datadir.Dir, sec *secrets.Store) error {
	if err := sec.PromoteNextDBKey(ctx); err != nil {
		return fmt.Errorf("switch the keychain to the new key: %w", err)
	}
	if err := os.Remove(dir.File(journalFile)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}

// copyExclusive opens the database, takes SQLite's exclusive lock (so no
// other process is using it: a write it made to the old file after the swap
// would be lost) and writes the re-encrypted, verified copy.
func copyExclusive(ctx context.Context, dbPath string, oldKey []byte, copyPath string, newKey []byte) error {
	db, err := store.Open(ctx, dbPath, oldKey)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := store.LockExclusive(ctx, db); err != nil {
		return fmt.Errorf("the database is in use (close Tsunagu first): %w", err)
	}
	if err := db.VacuumInto(ctx, copyPath, newKey); err != nil {
		return err
	}
	rep, err := store.Verify(ctx, copyPath, newKey)
	if err != nil {
		return err
	}
	if !rep.OK() {
		return fmt.Errorf("the re-encrypted copy did not verify (integrity: %s)", rep.Integrity)
	}
	return nil
}

func writeJournal(dir datadir.Dir, j journal) error {
	b, _ := json.Marshal(j)
	return recovery.WriteFileAtomic(dir.File(journalFile), b)
}

func removeFiles(path string) {
	for _, p := range []string{path, path + "-wal", path + "-shm", path + "-journal"} {
		os.Remove(p)
	}
}

func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}
