package backup

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"time"

	"tsunagu/internal/audit"
	"tsunagu/internal/auth"
	"tsunagu/internal/fielderr"
	"tsunagu/internal/recovery"
	"tsunagu/internal/store"
)

// Settings of backups, kept in security_settings so that the window, the
// CLI and the scheduler read the same ones.
type Settings struct {
	Dir           string `json:"dir"`
	Keep          int    `json:"keep"`
	IntervalHours int    `json:"intervalHours"` // 0: no scheduled backups
	LastBackupAt  int64  `json:"lastBackupAt"`  // unix ms of the newest backup from any program; read-only
}

// Setting keys and defaults: a daily backup into the data folder's
// "backups", 14 kept.
const (
	settingDir      = "backup_dir"
	settingKeep     = "backup_keep"
	settingInterval = "backup_interval_hours"
	settingLast     = "backup_last_at"

	DefaultKeep          = 14
	DefaultIntervalHours = 24
	DefaultDirName       = "backups"
)

// ErrInvalidSettings: keep outside 1–365, an interval outside 0–168 hours,
// or a folder that is not an absolute path.
var ErrInvalidSettings = errors.New("backup: invalid settings")

// Validate names every wrong field at once (fielderr, by JSON name) so that
// the backup screen marks them: the folder must be a full path because the
// scheduler runs with another working folder than the window.
func (in Settings) Validate() error {
	var l fielderr.List
	if in.Dir != "" && !filepath.IsAbs(in.Dir) {
		l.Add("dir", fielderr.AbsPath)
	}
	if in.Keep < 1 || in.Keep > 365 {
		l.AddBetween("keep", 1, 365)
	}
	if in.IntervalHours < 0 || in.IntervalHours > 168 {
		l.AddBetween("intervalHours", 0, 168)
	}
	return l.Err(ErrInvalidSettings)
}

// Service makes the backups of one data folder: on demand (the window's
// button, `tsunagu-cli backup create`) and when due (the engine's
// scheduler). Every backup records its time and its audit entry the same
// way, whoever made it.
type Service struct {
	db        *store.DB
	dataDir   string
	installID string
	key       func(context.Context) ([]byte, error)
	now       func() time.Time
}

// ServiceConfig are a Service's dependencies.
type ServiceConfig struct {
	DB        *store.DB
	DataDir   string
	InstallID string
	// Key returns the DB key (from the keychain); the caller's copy is
	// cleared after use.
	Key   func(context.Context) ([]byte, error)
	Clock func() time.Time // nil: time.Now
}

// NewService returns the backup service of a data folder.
func NewService(cfg ServiceConfig) (*Service, error) {
	if cfg.DB == nil || cfg.DataDir == "" || cfg.InstallID == "" || cfg.Key == nil {
		return nil, errors.New("backup: DB, data folder, install ID and key are required")
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	return &Service{db: cfg.DB, dataDir: cfg.DataDir, installID: cfg.InstallID, key: cfg.Key, now: cfg.Clock}, nil
}

// IssueRecoveryCode issues a new recovery code: the DB key is wrapped with
// it into recovery.json in the data folder (a previous code stops working)
// and the code is returned once, to be printed. The issue is recorded
// (recovery.create, the key's fingerprint) in the name of actor before the
// file is replaced: if the entry cannot be written nothing changes, and no
// failure can leave a working code without its entry. kdf is the argon2id
// cost; zero means recovery.DefaultKDF (tests pass a cheaper one).
func (s *Service) IssueRecoveryCode(ctx context.Context, actor string, kdf recovery.KDF) (string, error) {
	if kdf == (recovery.KDF{}) {
		kdf = recovery.DefaultKDF
	}
	key, err := s.key(ctx)
	if err != nil {
		return "", err
	}
	defer clear(key)
	code, err := recovery.NewCode()
	if err != nil {
		return "", err
	}
	now := s.now()
	f, err := recovery.Wrap(code, key, kdf, now) // argon2id: slow on purpose, so outside any transaction
	if err != nil {
		return "", err
	}
	err = s.db.Write(ctx, func(tx *sql.Tx) error {
		_, err := audit.Record(ctx, tx, audit.Entry{At: now.UnixMilli(), Actor: actor, Action: audit.ActionRecoveryCreate,
			Detail: map[string]string{"keyId": f.KeyID}})
		return err
	})
	if err != nil {
		return "", fmt.Errorf("record recovery code: %w", err)
	}
	// After the commit, not inside the transaction: a commit failing after
	// the file was replaced would leave a code nobody was given, and the
	// printed one invalid.
	if err := recovery.Save(filepath.Join(s.dataDir, recovery.FileName), f); err != nil {
		return "", err
	}
	return code, nil
}

// RecordRestore records that the backup m was restored into this data
// folder (backup.restore), in the name of actor.
func (s *Service) RecordRestore(ctx context.Context, actor string, m Manifest) error {
	return audit.RecordChange(ctx, s.db, audit.Entry{At: s.now().UnixMilli(), Actor: actor, Action: audit.ActionBackupRestore,
		Target: m.File, Detail: map[string]string{"from": m.InstallID, "auditHead": m.AuditHead}})
}

// RecordKeyRestored records that the DB key keyID was put back into the
// keychain from the recovery code (recovery.restore), in the name of actor.
func (s *Service) RecordKeyRestored(ctx context.Context, actor, keyID string) error {
	return audit.RecordChange(ctx, s.db, audit.Entry{At: s.now().UnixMilli(), Actor: actor, Action: audit.ActionRecoveryRestore,
		Detail: map[string]string{"keyId": keyID}})
}

// RecoveryCodeCreatedAt is when the current recovery code was issued (unix
// ms), 0 if there is none.
func (s *Service) RecoveryCodeCreatedAt() int64 {
	if f, err := recovery.Load(filepath.Join(s.dataDir, recovery.FileName)); err == nil {
		return f.CreatedAt
	}
	return 0
}

// Settings returns the stored settings with their defaults.
func (s *Service) Settings(ctx context.Context) (Settings, error) {
	out := Settings{Dir: filepath.Join(s.dataDir, DefaultDirName), Keep: DefaultKeep, IntervalHours: DefaultIntervalHours}
	r := s.db.Reader()
	for _, f := range []struct {
		key string
		set func(string)
	}{
		{settingDir, func(v string) {
			if v != "" {
				out.Dir = v
			}
		}},
		{settingKeep, func(v string) {
			if n, err := strconv.Atoi(v); err == nil && n > 0 {
				out.Keep = n
			}
		}},
		{settingInterval, func(v string) {
			if n, err := strconv.Atoi(v); err == nil && n >= 0 {
				out.IntervalHours = n
			}
		}},
		{settingLast, func(v string) {
			if n, err := strconv.ParseInt(v, 10, 64); err == nil {
				out.LastBackupAt = n
			}
		}},
	} {
		v, err := auth.GetSetting(ctx, r, f.key)
		if err != nil {
			return Settings{}, fmt.Errorf("backup settings: %w", err)
		}
		f.set(v)
	}
	return out, nil
}

// SetSettings changes the folder, retention and schedule; each change is
// audited in the name of actor. LastBackupAt is ignored.
func (s *Service) SetSettings(ctx context.Context, actor string, in Settings) (Settings, error) {
	if err := in.Validate(); err != nil {
		return Settings{}, err
	}
	cur, err := s.Settings(ctx)
	if err != nil {
		return Settings{}, err
	}
	for _, kv := range []struct{ key, old, new string }{
		{settingDir, cur.Dir, in.Dir},
		{settingKeep, strconv.Itoa(cur.Keep), strconv.Itoa(in.Keep)},
		{settingInterval, strconv.Itoa(cur.IntervalHours), strconv.Itoa(in.IntervalHours)},
	} {
		if kv.old != kv.new {
			if err := auth.SetSetting(ctx, s.db, actor, kv.key, kv.new); err != nil {
				return Settings{}, err
			}
		}
	}
	return s.Settings(ctx)
}

// Result is one backup made.
type Result struct {
	Manifest
	Path   string   `json:"path"`
	Keep   int      `json:"keep"`
	Pruned []string `json:"pruned,omitempty"` // older backups removed
}

// Create makes an encrypted, verified backup into dir ("" means the
// configured folder), prunes that folder to the configured number, and
// records the backup's time (which the schedule reads) and its audit entry
// (backup.create, in the name of actor) in one transaction.
func (s *Service) Create(ctx context.Context, actor, dir string) (Result, error) {
	set, err := s.Settings(ctx)
	if err != nil {
		return Result{}, err
	}
	if dir == "" {
		dir = set.Dir
	}
	key, err := s.key(ctx)
	if err != nil {
		return Result{}, err
	}
	defer clear(key)
	now := s.now()
	m, err := Create(ctx, s.db, key, dir, s.installID, filepath.Join(s.dataDir, recovery.FileName), now)
	if err != nil {
		return Result{}, err
	}
	pruned, err := Prune(dir, set.Keep)
	if err != nil {
		return Result{}, err
	}
	// The backup exists now: it is recorded even if the caller is being
	// cancelled (a program closing), or the schedule would not count it.
	ctx = context.WithoutCancel(ctx)
	err = s.db.Write(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO security_settings(key, value) VALUES (?, ?)
			ON CONFLICT(key) DO UPDATE SET value = excluded.value`, settingLast, strconv.FormatInt(now.UnixMilli(), 10)); err != nil {
			return err
		}
		_, err := audit.Record(ctx, tx, audit.Entry{At: now.UnixMilli(), Actor: actor, Action: audit.ActionBackupCreate, Target: m.File,
			Detail: map[string]string{"sha256": m.SHA256, "auditHead": m.AuditHead}})
		return err
	})
	if err != nil {
		return Result{}, fmt.Errorf("record backup: %w", err)
	}
	return Result{Manifest: m, Path: filepath.Join(dir, m.File), Keep: set.Keep, Pruned: pruned}, nil
}

// Due reports whether a scheduled backup is due: the interval is set and
// the newest backup (from any program) is at least that old.
func (s *Service) Due(ctx context.Context) (bool, error) {
	set, err := s.Settings(ctx)
	if err != nil {
		return false, err
	}
	return set.IntervalHours > 0 && s.now().Sub(time.UnixMilli(set.LastBackupAt)) >= time.Duration(set.IntervalHours)*time.Hour, nil
}
