package facade

import (
	"context"
	"errors"
	"strconv"
	"time"
	"tsunagu/internal/msgcode"

	"tsunagu/internal/auth"
	"tsunagu/internal/backup"
	"tsunagu/internal/engine"
	"tsunagu/internal/erasure"
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
func (a *App) CreateRecoveryCode() (string, error) {
	st, _, eng, err := a.requireService(auth.PermBackup)
	if err != nil {
		return "", err
	}
	code, err := eng.Backups().IssueRecoveryCode(a.context(), st.Actor(), a.recoveryKDF())
	return code, a.userError(err)
}

// BackupSettings returns the backup configuration.
func (a *App) BackupSettings() (BackupSettings, error) {
	_, _, eng, err := a.requireService(auth.PermBackup)
	if err != nil {
		return BackupSettings{}, err
	}
	s, err := a.backupSettings(eng)
	return s, a.userError(err)
}

// SetBackupSettings changes the folder, retention and schedule (each change
// is audited).
func (a *App) SetBackupSettings(s BackupSettings) (BackupSettings, error) {
	st, _, eng, err := a.requireService(auth.PermBackup)
	if err != nil {
		return BackupSettings{}, err
	}
	_, err = eng.Backups().SetSettings(a.context(), st.Actor(), backup.Settings{Dir: s.Dir, Keep: s.Keep, IntervalHours: s.IntervalHours})
	if errors.Is(err, backup.ErrInvalidSettings) {
		return BackupSettings{}, msgcode.New(msgcode.InvalidInput)
	}
	if err != nil {
		return BackupSettings{}, a.userError(err)
	}
	out, err := a.backupSettings(eng)
	return out, a.userError(err)
}

// BackupNow makes a verified backup into the backup folder and prunes old
// ones.
func (a *App) BackupNow() (BackupInfo, error) {
	st, _, eng, err := a.requireService(auth.PermBackup)
	if err != nil {
		return BackupInfo{}, err
	}
	r, err := eng.Backups().Create(a.context(), st.Actor(), "")
	if err != nil {
		a.opts.Logger.Error("backup failed", "err", err)
		return BackupInfo{}, msgcode.New(msgcode.BackupFailed)
	}
	return BackupInfo{Path: r.Path, SizeBytes: r.SizeBytes, CreatedAt: r.CreatedAt, Verified: true}, nil
}

// --- helpers ---

// backupSettings is the backup screen: the backup service's settings, the
// retention period and when the recovery code was issued.
func (a *App) backupSettings(eng *engine.Engine) (BackupSettings, error) {
	ctx := a.context()
	bs, err := eng.Backups().Settings(ctx)
	if err != nil {
		return BackupSettings{}, err
	}
	s := BackupSettings{Dir: bs.Dir, Keep: bs.Keep, IntervalHours: bs.IntervalHours, LastBackupAt: bs.LastBackupAt,
		RecoveryCodeCreatedAt: eng.Backups().RecoveryCodeCreatedAt()}
	v, err := auth.GetSetting(ctx, eng.DB().Reader(), erasure.SettingRetentionDays)
	if err != nil {
		return s, err
	}
	if n, err := strconv.Atoi(v); err == nil && n >= 0 {
		s.RetentionDays = n
	}
	return s, nil
}

// startSchedule runs the engine's schedule (backups, retention) while the
// window is open; the engine in use may change (a restart), so each pass
// takes the current one.
func (a *App) startSchedule(ctx context.Context) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	a.sec.mu.Lock()
	a.sec.stopSchedule, a.sec.scheduleDone = cancel, done
	a.sec.mu.Unlock()
	go func() {
		defer close(done)
		t := time.NewTicker(engine.ScheduleInterval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				a.scheduledWork(ctx)
			}
		}
	}()
}

func (a *App) stopSchedule() {
	a.sec.mu.Lock()
	cancel, done := a.sec.stopSchedule, a.sec.scheduleDone
	a.sec.stopSchedule, a.sec.scheduleDone = nil, nil
	a.sec.mu.Unlock()
	if cancel != nil {
		cancel()
		<-done
	}
}

func (a *App) scheduledWork(ctx context.Context) {
	a.mu.RLock()
	eng := a.eng
	a.mu.RUnlock()
	if eng == nil || eng.DB() == nil {
		return
	}
	eng.RunScheduledWork(ctx)
}

// secNow is the injected clock (time.Now by default).
func (a *App) secNow() time.Time {
	if a.opts.Clock != nil {
		return a.opts.Clock()
	}
	return time.Now()
}

// recoveryKDF is the argon2id cost of recovery codes: the production one,
// or the (cheaper) password parameters tests set.
func (a *App) recoveryKDF() recovery.KDF {
	if p := a.opts.AuthParams; p != (auth.Params{}) {
		return recovery.KDF{Time: p.Time, Memory: p.Memory, Threads: p.Threads}
	}
	return recovery.DefaultKDF
}
