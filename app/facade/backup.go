package facade

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"strconv"
	"time"

	"tsunagu/internal/audit"
	"tsunagu/internal/auth"
	"tsunagu/internal/backup"
	"tsunagu/internal/customer"
	"tsunagu/internal/datadir"
	"tsunagu/internal/engine"
	"tsunagu/internal/erasure"
	"tsunagu/internal/recovery"
)

const codeBackupFailed = "errors.backupFailed"

// Security settings of backups (in security_settings).
const (
	settingBackupDir      = "backup_dir"
	settingBackupKeep     = "backup_keep"
	settingBackupInterval = "backup_interval_hours"
	settingBackupLast     = "backup_last_at"
)

// Defaults: a daily backup into the data folder's "backups", 14 kept.
const (
	defaultBackupKeep     = 14
	defaultBackupInterval = 24
)

// BackupSettings is the backup screen.
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
	ctx := a.context()
	key, err := eng.Secrets().DBKey(ctx)
	if err != nil {
		return "", a.userError(err)
	}
	defer clear(key)
	code, err := recovery.NewCode()
	if err != nil {
		return "", a.userError(err)
	}
	f, err := recovery.Wrap(code, key, a.recoveryKDF(), a.secNow())
	if err != nil {
		return "", a.userError(err)
	}
	if err := recovery.Save(filepath.Join(eng.DataDir(), recovery.FileName), f); err != nil {
		return "", a.userError(err)
	}
	if err := a.record(eng, audit.Entry{At: a.now(), Actor: st.Actor(), Action: audit.ActionRecoveryCreate, Detail: map[string]string{"keyId": f.KeyID}}); err != nil {
		return "", a.userError(err)
	}
	return code, nil
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
	if s.Keep < 1 || s.Keep > 365 || s.IntervalHours < 0 || s.IntervalHours > 168 || (s.Dir != "" && !filepath.IsAbs(s.Dir)) {
		return BackupSettings{}, errors.New(codeInvalidInput)
	}
	cur, err := a.backupSettings(eng)
	if err != nil {
		return BackupSettings{}, a.userError(err)
	}
	for _, kv := range []struct{ key, old, new string }{
		{settingBackupDir, cur.Dir, s.Dir},
		{settingBackupKeep, strconv.Itoa(cur.Keep), strconv.Itoa(s.Keep)},
		{settingBackupInterval, strconv.Itoa(cur.IntervalHours), strconv.Itoa(s.IntervalHours)},
	} {
		if kv.old != kv.new {
			if err := auth.SetSetting(a.context(), eng.DB(), st.Actor(), kv.key, kv.new); err != nil {
				return BackupSettings{}, a.userError(err)
			}
		}
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
	info, err := a.backup(a.context(), eng, st.Actor())
	if err != nil {
		a.opts.Logger.Error("backup failed", "err", err)
		return BackupInfo{}, errors.New(codeBackupFailed)
	}
	return info, nil
}

// EraseConversation deletes a LINE user's conversation, messages and media
// on their request (APPI), leaving only an audit entry with counts.
func (a *App) EraseConversation(conversationID int64) error {
	st, _, eng, err := a.requireService(auth.PermErase)
	if err != nil {
		return err
	}
	// The customer feature's hooks unlink the LINE user from their
	// customer in the same transaction.
	_, err = erasure.New(eng.DB(), eng.ErasureHooks(), a.opts.Clock).EraseConversation(a.context(), st.Actor(), conversationID)
	if errors.Is(err, erasure.ErrNotFound) {
		return errors.New(codeNotFound)
	}
	return a.userError(err)
}

// EraseCustomer deletes a customer on their request (APPI): their record,
// contact points, consents, products, attributes, tags and LINE link, and
// the linked LINE user's conversation, messages and media, in one
// transaction with its audit entry (data.erase, customer ID and counts).
func (a *App) EraseCustomer(id int64) error {
	st, _, eng, err := a.requireService(auth.PermErase)
	if err != nil {
		return err
	}
	_, err = erasure.New(eng.DB(), eng.ErasureHooks(), a.opts.Clock).EraseCustomer(a.context(), st.Actor(), id)
	if errors.Is(err, customer.ErrNotFound) {
		return errors.New(codeNotFound)
	}
	return a.userError(err)
}

// SetRetentionDays sets how long conversations are kept (0: forever).
func (a *App) SetRetentionDays(days int) error {
	st, _, eng, err := a.requireService(auth.PermSettings)
	if err != nil {
		return err
	}
	if days < 0 || days > 36500 {
		return errors.New(codeInvalidInput)
	}
	return a.userError(auth.SetSetting(a.context(), eng.DB(), st.Actor(), erasure.SettingRetentionDays, strconv.Itoa(days)))
}

// --- helpers ---

func (a *App) backup(ctx context.Context, eng *engine.Engine, actor string) (BackupInfo, error) {
	s, err := a.backupSettings(eng)
	if err != nil {
		return BackupInfo{}, err
	}
	key, err := eng.Secrets().DBKey(ctx)
	if err != nil {
		return BackupInfo{}, err
	}
	defer clear(key)
	id, err := datadir.Dir{Path: eng.DataDir()}.ReadInstallID()
	if err != nil {
		return BackupInfo{}, err
	}
	now := a.secNow()
	m, err := backup.Create(ctx, eng.DB(), key, s.Dir, id, filepath.Join(eng.DataDir(), recovery.FileName), now)
	if err != nil {
		return BackupInfo{}, err
	}
	if _, err := backup.Prune(s.Dir, s.Keep); err != nil {
		return BackupInfo{}, err
	}
	err = eng.DB().Write(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO security_settings(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value`, settingBackupLast, strconv.FormatInt(now.UnixMilli(), 10)); err != nil {
			return err
		}
		_, err := audit.Record(ctx, tx, audit.Entry{At: now.UnixMilli(), Actor: actor, Action: audit.ActionBackupCreate, Target: m.File,
			Detail: map[string]string{"sha256": m.SHA256, "auditHead": m.AuditHead}})
		return err
	})
	if err != nil {
		return BackupInfo{}, err
	}
	return BackupInfo{Path: filepath.Join(s.Dir, m.File), SizeBytes: m.SizeBytes, CreatedAt: m.CreatedAt, Verified: true}, nil
}

func (a *App) backupSettings(eng *engine.Engine) (BackupSettings, error) {
	r := eng.DB().Reader()
	ctx := a.context()
	s := BackupSettings{Dir: filepath.Join(eng.DataDir(), "backups"), Keep: defaultBackupKeep, IntervalHours: defaultBackupInterval}
	get := func(key string) (string, error) { return auth.GetSetting(ctx, r, key) }
	if v, err := get(settingBackupDir); err != nil {
		return s, err
	} else if v != "" {
		s.Dir = v
	}
	if v, err := get(settingBackupKeep); err != nil {
		return s, err
	} else if n, err := strconv.Atoi(v); err == nil && n > 0 {
		s.Keep = n
	}
	if v, err := get(settingBackupInterval); err != nil {
		return s, err
	} else if n, err := strconv.Atoi(v); err == nil && n >= 0 {
		s.IntervalHours = n
	}
	if v, err := get(settingBackupLast); err != nil {
		return s, err
	} else if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		s.LastBackupAt = n
	}
	if v, err := get(erasure.SettingRetentionDays); err != nil {
		return s, err
	} else if n, err := strconv.Atoi(v); err == nil && n >= 0 {
		s.RetentionDays = n
	}
	if f, err := recovery.Load(filepath.Join(eng.DataDir(), recovery.FileName)); err == nil {
		s.RecoveryCodeCreatedAt = f.CreatedAt
	}
	return s, nil
}

// scheduleEvery is how often the loop checks whether a backup or the
// retention policy is due; a PC that was off catches up soon after start.
const scheduleEvery = 5 * time.Minute

func (a *App) startSchedule(ctx context.Context) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	a.sec.mu.Lock()
	a.sec.stopSchedule, a.sec.scheduleDone = cancel, done
	a.sec.mu.Unlock()
	go func() {
		defer close(done)
		t := time.NewTicker(scheduleEvery)
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
	s, err := a.backupSettings(eng)
	if err != nil {
		a.opts.Logger.Warn("scheduled backup", "err", err)
		return
	}
	now := a.secNow()
	if s.IntervalHours > 0 && now.Sub(time.UnixMilli(s.LastBackupAt)) >= time.Duration(s.IntervalHours)*time.Hour {
		if _, err := a.backup(ctx, eng, audit.SystemActor); err != nil {
			a.opts.Logger.Error("scheduled backup failed", "err", err)
		}
	}
	if v, _ := auth.GetSetting(ctx, eng.DB().Reader(), erasure.SettingRetentionDays); v != "" {
		if days, err := strconv.Atoi(v); err == nil && days > 0 {
			if _, err := erasure.New(eng.DB(), erasure.Hooks{}, a.opts.Clock).ApplyRetention(ctx, audit.SystemActor, days); err != nil {
				a.opts.Logger.Error("retention", "err", err)
			}
		}
	}
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
