package facade

// BackupService: the recovery code and backups. The rules (defaults,
// validation, recording, the schedule) are the engine's backup service.

import (
	"context"
	"errors"
	"fmt"
	"os/user"

	"tsunagu/internal/audit"
	"tsunagu/internal/auth"
	"tsunagu/internal/backup"
	"tsunagu/internal/engine"
	"tsunagu/internal/msgcode"
	"tsunagu/internal/recovery"
)

// BackupSettings is the backup screen: the backup service's settings plus
// what the screen shows beside them.
type BackupSettings struct {
	Dir                   string `json:"dir"`
	Keep                  int    `json:"keep"`
	IntervalHours         int    `json:"intervalHours"` // 0: no scheduled backups
	LastBackupAt          int64  `json:"lastBackupAt"`
	RecoveryCodeCreatedAt int64  `json:"recoveryCodeCreatedAt"`
	RetentionDays         int    `json:"retentionDays"` // read-only here: SetRetentionDays
	// Placement of Dir: inside the data folder or on the same disk, the
	// screen warns that such a backup does not survive the PC's loss.
	Placement backup.Placement `json:"placement"`
}

// BackupFolder is a folder chosen in the folder dialog and its placement.
type BackupFolder struct {
	Dir       string           `json:"dir"` // "": cancelled
	Placement backup.Placement `json:"placement"`
}

// BackupInfo describes a backup just made.
type BackupInfo struct {
	Path      string `json:"path"`
	SizeBytes int64  `json:"sizeBytes"`
	CreatedAt int64  `json:"createdAt"`
	Verified  bool   `json:"verified"`
}

// CreateRecoveryCode issues a new recovery code: the DB key is wrapped with
// it into recovery.json in the data folder, and the code is returned once,
// to be printed. A previous code stops working.
func (s *BackupService) CreateRecoveryCode() (string, error) {
	kdf := s.a.recoveryKDF()
	return call(s.a, auth.PermBackup, func(ctx context.Context, st auth.Staff, eng *engine.Engine) (string, error) {
		return eng.Backups().IssueRecoveryCode(ctx, st.Actor(), kdf)
	})
}

// RestoreKeyFromCode puts a lost database key back into this keychain from
// the recovery code (the window's answer to errors.dbKeyMissing), starts
// the engine and returns the new state (a start failure in Status.Error).
// It is public: the staff table is in the closed database, so nobody can
// sign in; the recovery code is the credential (docs/security.md). The
// restore is audited as the holder of the code at this PC's OS account
// (audit.RecoveryActor). Attempts are serialised (each costs argon2id's
// memory), and a running engine or a present key is never touched.
func (s *BackupService) RestoreKeyFromCode(code string) (Status, error) {
	a := s.a
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.eng != nil {
		return Status{}, a.userError(engine.ErrKeyPresent)
	}
	if _, err := engine.RecoverKey(a.context(), a.opts.DataDir, a.opts.Keyring, code, audit.RecoveryActor(osUser())); err != nil {
		return Status{}, a.userError(fmt.Errorf("restore the database key from the recovery code: %w", err))
	}
	// The key is back; a start that still fails (e.g. a newer schema) is
	// the state to show, as for RetryStart, not a failed restore.
	st, _ := a.restartLocked()
	return a.withStaff(st), nil
}

// BackupSettings returns the backup configuration.
func (s *BackupService) BackupSettings() (BackupSettings, error) {
	return call(s.a, auth.PermBackup, func(ctx context.Context, _ auth.Staff, eng *engine.Engine) (BackupSettings, error) {
		return backupSettings(ctx, eng)
	})
}

// SetBackupSettings changes the folder, retention and schedule (each change
// is audited).
func (s *BackupService) SetBackupSettings(in BackupSettings) (BackupSettings, error) {
	return call(s.a, auth.PermBackup, func(ctx context.Context, st auth.Staff, eng *engine.Engine) (BackupSettings, error) {
		if _, err := eng.Backups().SetSettings(ctx, st.Actor(), backup.Settings{Dir: in.Dir, Keep: in.Keep, IntervalHours: in.IntervalHours}); err != nil {
			return BackupSettings{}, err
		}
		return backupSettings(ctx, eng)
	})
}

// PickBackupFolder asks for a backup folder in the folder dialog and says
// where it lies (nothing is saved: SetBackupSettings does that).
func (s *BackupService) PickBackupFolder() (BackupFolder, error) {
	return call(s.a, auth.PermBackup, func(ctx context.Context, _ auth.Staff, eng *engine.Engine) (BackupFolder, error) {
		fp, err := s.a.opts.filePicker()
		if err != nil {
			return BackupFolder{}, err
		}
		dir, err := fp.OpenFolder(ctx, "Backup")
		if err != nil || dir == "" {
			return BackupFolder{}, err
		}
		return BackupFolder{Dir: dir, Placement: eng.Backups().Placement(dir)}, nil
	})
}

// BackupNow makes a verified backup into the backup folder and prunes old
// ones. Any failure is shown as "the backup failed"; the log has the cause.
func (s *BackupService) BackupNow() (BackupInfo, error) {
	return call(s.a, auth.PermBackup, func(ctx context.Context, st auth.Staff, eng *engine.Engine) (BackupInfo, error) {
		r, err := eng.Backups().Create(ctx, st.Actor(), "")
		if err != nil {
			return BackupInfo{}, errors.Join(msgcode.New(msgcode.BackupFailed), err)
		}
		return BackupInfo{Path: r.Path, SizeBytes: r.SizeBytes, CreatedAt: r.CreatedAt, Verified: true}, nil
	})
}

// backupSettings is the backup screen: the backup service's settings, the
// retention period and when the recovery code was issued.
func backupSettings(ctx context.Context, eng *engine.Engine) (BackupSettings, error) {
	bs, err := eng.Backups().Settings(ctx)
	if err != nil {
		return BackupSettings{}, err
	}
	days, err := eng.Erasure().RetentionDays(ctx)
	if err != nil {
		return BackupSettings{}, err
	}
	return BackupSettings{Dir: bs.Dir, Keep: bs.Keep, IntervalHours: bs.IntervalHours, LastBackupAt: bs.LastBackupAt,
		RecoveryCodeCreatedAt: eng.Backups().RecoveryCodeCreatedAt(), RetentionDays: days, Placement: eng.Backups().Placement(bs.Dir)}, nil
}

// startSchedule runs the engine's schedule (backups, retention) while the
// window is open, on whichever engine is current (a channel change
// replaces it).
func (a *App) startSchedule(ctx context.Context) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	a.sched.mu.Lock()
	a.sched.stop, a.sched.done = cancel, done
	a.sched.mu.Unlock()
	go func() {
		defer close(done)
		engine.Schedule(ctx, engine.ScheduleInterval, a.engine)
	}()
}

func (a *App) stopSchedule() {
	a.sched.mu.Lock()
	cancel, done := a.sched.stop, a.sched.done
	a.sched.stop, a.sched.done = nil, nil
	a.sched.mu.Unlock()
	if cancel != nil {
		cancel()
		<-done
	}
}

// scheduledWork is one pass of the schedule on the current engine.
func (a *App) scheduledWork(ctx context.Context) {
	if eng := a.engine(); eng != nil {
		eng.RunScheduledWork(ctx)
	}
}

// engine is the running engine, nil if none.
func (a *App) engine() *engine.Engine {
	a.mu.RLock()
	defer a.mu.RUnlock()
	return a.eng
}

// recoveryKDF is the argon2id cost of recovery codes: the production one,
// or the (cheaper) password parameters tests set.
func (a *App) recoveryKDF() recovery.KDF {
	if p := a.opts.AuthParams; p != (auth.Params{}) {
		return recovery.KDF{Time: p.Time, Memory: p.Memory, Threads: p.Threads}
	}
	return recovery.DefaultKDF
}

// osUser is the OS account at this PC: who restored a key before anyone
// could sign in (the CLI records the same).
func osUser() string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username
	}
	return "unknown"
}
