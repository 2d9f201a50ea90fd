// Package backup makes, checks and restores encrypted backups of the
// customer database.
//
// A backup is a consistent copy made with VACUUM INTO while the app keeps
// working, still encrypted with the database key, written under a temporary
// name, verified (it opens with the key and passes integrity_check) and only
// then renamed into place, so a half-written backup never looks complete.
// Next to it a manifest (FILE.json) records what it is: when, which key
// (fingerprint only), the schema version, the audit trail's head hash (so
// a later rewrite of the trail can be detected) and the file's SHA-256. The
// recovery file is copied into the backup folder too: with the printed
// recovery code a backup can be restored on a new PC.
package backup

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"tsunagu/internal/audit"
	"tsunagu/internal/recovery"
	"tsunagu/internal/store"
)

// Prefix and suffix of backup file names: tsunagu-20260401-090000.db.
const (
	filePrefix = "tsunagu-"
	fileSuffix = ".db"
)

// ErrCorrupt means a backup does not match its manifest or fails the
// integrity check.
var ErrCorrupt = errors.New("the backup is damaged or was changed")

// Manifest describes one backup.
type Manifest struct {
	File          string `json:"file"`
	CreatedAt     int64  `json:"createdAt"`
	InstallID     string `json:"installId"`
	KeyID         string `json:"keyId"`
	SchemaVersion int    `json:"schemaVersion"`
	AuditEntries  int64  `json:"auditEntries"`
	AuditHead     string `json:"auditHead"`
	SizeBytes     int64  `json:"sizeBytes"`
	SHA256        string `json:"sha256"`
}

// RecoveryFileFor is where the recovery file of key keyID is kept next to
// the backup at file: named by key, so files of older keys (before a
// rotation) stay beside the backups that need them.
func RecoveryFileFor(file, keyID string) string {
	return filepath.Join(filepath.Dir(file), "recovery-"+keyID+".json")
}

// Create writes a verified backup of db into dir and returns its manifest.
// key is the database key (the backup stays encrypted with it).
// recoveryFile, if it exists, is copied next to the backup.
func Create(ctx context.Context, db *store.DB, key []byte, dir, installID, recoveryFile string, now time.Time) (Manifest, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return Manifest{}, fmt.Errorf("backup folder: %w", err)
	}
	// Milliseconds in the name: a scheduled backup and one asked for by
	// hand can fall in the same second. The names still sort by time.
	name := filePrefix + now.UTC().Format("20060102-150405.000") + fileSuffix
	final := filepath.Join(dir, name)
	if _, err := os.Stat(final); err == nil {
		return Manifest{}, fmt.Errorf("backup %s: %w", final, store.ErrExists)
	}
	tmp := filepath.Join(dir, ".partial-"+name)
	removeAll(tmp) // a leftover of an interrupted attempt
	if err := db.VacuumInto(ctx, tmp, key); err != nil {
		return Manifest{}, fmt.Errorf("backup: %w", err)
	}
	defer removeAll(tmp)

	m, err := inspect(ctx, tmp, key)
	if err != nil {
		return Manifest{}, fmt.Errorf("backup: verify the new copy: %w", err)
	}
	m.File, m.CreatedAt, m.InstallID, m.KeyID = name, now.UnixMilli(), installID, recovery.KeyID(key)
	if err := os.Rename(tmp, final); err != nil {
		return Manifest{}, fmt.Errorf("backup: %w", err)
	}
	b, _ := json.MarshalIndent(m, "", "  ")
	if err := recovery.WriteFileAtomic(final+".json", append(b, '\n')); err != nil {
		return Manifest{}, fmt.Errorf("backup manifest: %w", err)
	}
	if recoveryFile != "" {
		if rf, err := recovery.Load(recoveryFile); err == nil {
			if err := recovery.Save(RecoveryFileFor(final, rf.KeyID), rf); err != nil {
				return m, fmt.Errorf("backup: copy the recovery file: %w", err)
			}
		}
	}
	return m, nil
}

// Verify checks a backup against its manifest and opens it with key.
func Verify(ctx context.Context, file string, key []byte) (Manifest, error) {
	want, err := ReadManifest(file)
	if err != nil {
		return Manifest{}, err
	}
	if want.KeyID != "" && want.KeyID != recovery.KeyID(key) {
		return want, fmt.Errorf("backup %s: %w", file, store.ErrWrongKey)
	}
	got, err := inspect(ctx, file, key)
	if err != nil {
		return want, fmt.Errorf("backup %s: %w", file, err)
	}
	if got.SHA256 != want.SHA256 || got.SizeBytes != want.SizeBytes || got.AuditHead != want.AuditHead {
		return want, fmt.Errorf("backup %s: %w (it differs from its manifest)", file, ErrCorrupt)
	}
	return want, nil
}

// ReadManifest reads FILE.json.
func ReadManifest(file string) (Manifest, error) {
	b, err := os.ReadFile(file + ".json")
	if err != nil {
		return Manifest{}, fmt.Errorf("backup manifest: %w", err)
	}
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return Manifest{}, fmt.Errorf("backup manifest %s.json: %w", file, ErrCorrupt)
	}
	return m, nil
}

// Restore verifies a backup and copies it to dbPath (which must not exist:
// a restore goes into a new data folder, never over live data).
func Restore(ctx context.Context, file string, key []byte, dbPath string) (Manifest, error) {
	m, err := Verify(ctx, file, key)
	if err != nil {
		return m, err
	}
	for _, p := range []string{dbPath, dbPath + "-wal", dbPath + "-shm", dbPath + "-journal"} {
		if _, err := os.Lstat(p); err == nil {
			return m, fmt.Errorf("restore into %s: %w", p, store.ErrExists)
		}
	}
	if err := copyFile(file, dbPath); err != nil {
		return m, fmt.Errorf("restore: %w", err)
	}
	db, err := store.Open(ctx, dbPath, key)
	if err != nil {
		return m, fmt.Errorf("restore: open the restored database: %w", err)
	}
	return m, db.Close()
}

// Prune deletes the oldest backups in dir beyond keep (at least one is
// always kept), with their manifests, and returns the deleted names.
func Prune(dir string, keep int) ([]string, error) {
	keep = max(keep, 1)
	list, err := List(dir)
	if err != nil {
		return nil, err
	}
	var gone []string
	for i := keep; i < len(list); i++ {
		p := filepath.Join(dir, list[i])
		if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			return gone, fmt.Errorf("remove old backup: %w", err)
		}
		os.Remove(p + ".json")
		gone = append(gone, list[i])
	}
	return gone, nil
}

// List returns the backup file names in dir, newest first.
func List(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("backup folder: %w", err)
	}
	var names []string
	for _, e := range entries {
		if n := e.Name(); !e.IsDir() && strings.HasPrefix(n, filePrefix) && strings.HasSuffix(n, fileSuffix) {
			names = append(names, n)
		}
	}
	sort.Sort(sort.Reverse(sort.StringSlice(names))) // the timestamp sorts
	return names, nil
}

// inspect opens a copy read-only and describes it.
func inspect(ctx context.Context, file string, key []byte) (Manifest, error) {
	rep, err := store.Verify(ctx, file, key)
	if err != nil {
		return Manifest{}, err
	}
	if !rep.Encrypted || !rep.OpensWithKey || rep.Integrity != "ok" {
		return Manifest{}, fmt.Errorf("%w (integrity: %s)", ErrCorrupt, rep.Integrity)
	}
	sum, size, err := hashFile(file)
	if err != nil {
		return Manifest{}, err
	}
	m := Manifest{SchemaVersion: rep.SchemaVersion, SizeBytes: size, SHA256: sum}
	snap, err := store.OpenSnapshot(ctx, file, key)
	if err != nil {
		return Manifest{}, err
	}
	defer snap.Close()
	chain, err := audit.Verify(ctx, snap)
	if err != nil {
		return Manifest{}, err
	}
	if !chain.OK {
		return Manifest{}, fmt.Errorf("%w: audit trail broken at entry %d", ErrCorrupt, chain.BrokenAt)
	}
	m.AuditEntries, m.AuditHead = chain.Entries, chain.Head
	return m, nil
}

func hashFile(path string) (string, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return "", 0, err
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	if err := os.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
		return err
	}
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		os.Remove(dst)
		return err
	}
	if err := out.Sync(); err != nil {
		out.Close()
		os.Remove(dst)
		return err
	}
	return out.Close()
}

func removeAll(path string) {
	for _, p := range []string{path, path + "-wal", path + "-shm", path + "-journal"} {
		os.Remove(p)
	}
}
