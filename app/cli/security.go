package main

import (
	"bufio"
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"golang.org/x/term"

	"tsunagu/internal/audit"
	"tsunagu/internal/auth"
	"tsunagu/internal/backup"
	"tsunagu/internal/datadir"
	"tsunagu/internal/engine"
	"tsunagu/internal/keyrotate"
	"tsunagu/internal/recovery"
	"tsunagu/internal/secrets"
	"tsunagu/internal/store"
)

// Security commands (registered in main.go's commands): the audit trail,
// staff accounts, backups, the recovery code and key rotation.
//
// tsunagu-cli runs as the OS user who holds the keychain items (and so can
// open the DB anyway); its changes are audited as "os:<user>". An
// administrator can require a staff sign-in as well (`staff require-signin
// on`): the CLI then asks for TSUNAGU_STAFF's password and audits under that
// staff member, who must be an administrator for staff commands.

// positionalArgs is how many positional arguments a command takes.
func positionalArgs(name string) int {
	if n, ok := customerArgs[name]; ok {
		return n
	}
	if n, ok := campaignArgs[name]; ok { // campaign.go
		return n
	}
	if n, ok := relayArgs[name]; ok { // relay.go
		return n
	}
	if n, ok := deadLetterArgs[name]; ok { // deadletters.go
		return n
	}
	switch name {
	case "staff add":
		return 2
	case "staff deactivate", "staff reactivate", "staff require-signin",
		"backup create", "backup verify", "backup restore", "erase conversation", "erase customer":
		return 1
	}
	return 0
}

// StaffEnv names the staff member the CLI signs in as when a sign-in is
// required.
const StaffEnv = "TSUNAGU_STAFF"

const settingCLISignin = "cli_requires_signin"

// openAudited opens the DB and returns the audit actor of this invocation:
// the OS user, or the signed-in staff member when an administrator requires
// it. If perm is not empty, a staff member must have it.
func (c *cmdCtx) openAudited(ctx context.Context, perm auth.Permission) (*engine.Engine, string, error) {
	eng, actor, _, err := c.openSignedIn(ctx, perm)
	return eng, actor, err
}

// openUnmasked is openAudited for commands that print personal data: the
// CLI does not mask, so a role that sees masked data (agency) is refused.
func (c *cmdCtx) openUnmasked(ctx context.Context, perm auth.Permission) (*engine.Engine, string, error) {
	eng, actor, role, err := c.openSignedIn(ctx, perm)
	if err != nil {
		return nil, "", err
	}
	if role.Masked() {
		eng.Close()
		return nil, "", fmt.Errorf("role %s sees personal data masked, which tsunagu-cli cannot do: use the app", role)
	}
	return eng, actor, nil
}

// openSignedIn is openAudited, also returning the staff member's role ("" for
// the OS user).
func (c *cmdCtx) openSignedIn(ctx context.Context, perm auth.Permission) (*engine.Engine, string, auth.Role, error) {
	eng, err := engine.Open(ctx, c.dataDir, c.keyring)
	if err != nil {
		return nil, "", "", err
	}
	required, err := auth.GetSetting(ctx, eng.DB().Reader(), settingCLISignin)
	if err != nil {
		eng.Close()
		return nil, "", "", err
	}
	if required != "on" {
		return eng, audit.OSActor(osUser()), "", nil
	}
	login := os.Getenv(StaffEnv)
	if login == "" {
		eng.Close()
		return nil, "", "", fmt.Errorf("an administrator requires a staff sign-in for tsunagu-cli: set %s to your login and enter your password", StaffEnv)
	}
	pw, err := c.readSecretLine("Password for " + login + ": ")
	if err != nil {
		eng.Close()
		return nil, "", "", err
	}
	svc, err := eng.Auth()
	if err != nil {
		eng.Close()
		return nil, "", "", err
	}
	ss, err := svc.SignIn(ctx, login, pw)
	if err != nil {
		eng.Close()
		return nil, "", "", err
	}
	st := ss.Staff()
	if perm != "" && !st.Role.Allows(perm) {
		eng.Close()
		return nil, "", "", fmt.Errorf("staff %s (%s) may not do this", st.Login, st.Role)
	}
	return eng, st.Actor(), st.Role, nil
}

func cmdAuditVerify(ctx context.Context, c *cmdCtx) error {
	eng, _, err := c.openAudited(ctx, auth.PermAuditRead)
	if err != nil {
		return err
	}
	defer eng.Close()
	rep, err := audit.Verify(ctx, eng.DB().Reader())
	if err != nil {
		return err
	}
	if err := c.print(rep, func(w io.Writer) {
		if rep.OK {
			fmt.Fprintf(w, "audit trail: intact, %d entries\nhead:        %s\n", rep.Entries, rep.Head)
			return
		}
		fmt.Fprintf(w, "audit trail: BROKEN at entry #%d: %s\n", rep.BrokenAt, rep.Reason)
	}); err != nil {
		return err
	}
	if !rep.OK {
		return fmt.Errorf("the audit trail is broken at entry #%d", rep.BrokenAt)
	}
	return nil
}

// auditExportFlags are the flags of `audit export`.
type auditExportFlags struct{ from, to string }

func auditExportFlagSet(fs *flag.FlagSet) any {
	f := &auditExportFlags{}
	fs.StringVar(&f.from, "from", "", "first day to export, YYYY-MM-DD, local time (default: the first entry)")
	fs.StringVar(&f.to, "to", "", "last day to export (included), YYYY-MM-DD, local time (default: the last entry)")
	return f
}

// cmdAuditExport writes every entry in the range asked for, oldest first,
// streamed (memory does not grow with the trail), and says on standard
// error how many it wrote. The export is audited with that count before
// anything is written.
func cmdAuditExport(ctx context.Context, c *cmdCtx) error {
	f := c.flags.(*auditExportFlags)
	var filter audit.Filter
	detail := map[string]string{}
	if f.from != "" {
		d, err := time.ParseInLocation(time.DateOnly, f.from, time.Local)
		if err != nil {
			return exitError{2, fmt.Errorf("--from %q: expected a date like 2025-04-01", f.from)}
		}
		filter.From, detail["from"] = d.UnixMilli(), f.from
	}
	if f.to != "" {
		d, err := time.ParseInLocation(time.DateOnly, f.to, time.Local)
		if err != nil {
			return exitError{2, fmt.Errorf("--to %q: expected a date like 2026-03-31", f.to)}
		}
		filter.To, detail["to"] = d.AddDate(0, 0, 1).UnixMilli(), f.to
	}
	if filter.From > 0 && filter.To > 0 && filter.To <= filter.From {
		return exitError{2, fmt.Errorf("--to %s is before --from %s", f.to, f.from)}
	}
	eng, actor, err := c.openAudited(ctx, auth.PermAuditExport)
	if err != nil {
		return err
	}
	defer eng.Close()
	x, err := audit.BeginExport(ctx, eng.DB().Reader(), filter)
	if err != nil {
		return err
	}
	defer x.Close()
	detail["entries"] = strconv.FormatInt(x.Count, 10)
	if err := recordCLI(ctx, eng, actor, audit.ActionExport, "", detail); err != nil {
		return err
	}
	write := x.WriteCSV
	if c.json {
		write = x.WriteJSON
	}
	n, err := write(ctx, c.stdout)
	if err != nil {
		return fmt.Errorf("after %d of %d entries: %w", n, x.Count, err)
	}
	fmt.Fprintf(c.stderr, "exported %d audit entries (%s to %s)\n", n, orDefault(f.from, "first entry"), orDefault(f.to, "last entry"))
	return nil
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func cmdStaffList(ctx context.Context, c *cmdCtx) error {
	eng, _, err := c.openAudited(ctx, auth.PermStaff)
	if err != nil {
		return err
	}
	defer eng.Close()
	svc, err := eng.Auth()
	if err != nil {
		return err
	}
	list, err := svc.List(ctx)
	if err != nil {
		return err
	}
	return c.print(list, func(w io.Writer) {
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "LOGIN\tNAME\tROLE\tACTIVE")
		for _, s := range list {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", s.Login, s.DisplayName, s.Role, yesNo(s.Active))
		}
		tw.Flush()
	})
}

// cmdStaffAdd reads the display name and the password from standard input
// (one per line), never from arguments (visible in the process list).
func cmdStaffAdd(ctx context.Context, c *cmdCtx) error {
	eng, actor, err := c.openAudited(ctx, auth.PermStaff)
	if err != nil {
		return err
	}
	defer eng.Close()
	svc, err := eng.Auth()
	if err != nil {
		return err
	}
	name, err := c.readLine("Display name: ")
	if err != nil {
		return err
	}
	pw, err := c.readSecretLine("Password: ")
	if err != nil {
		return err
	}
	n := auth.NewStaff{Login: c.args[0], Role: auth.Role(c.args[1]), DisplayName: name, Password: pw}
	var st auth.Staff
	if has, err := svc.HasStaff(ctx); err == nil && !has && n.Role == auth.RoleAdmin {
		st, err = svc.CreateFirstAdmin(ctx, n)
		if err != nil {
			return err
		}
	} else if st, err = svc.CreateStaff(ctx, actor, n); err != nil {
		return err
	}
	return c.print(st, func(w io.Writer) { fmt.Fprintf(w, "staff %s added (%s)\n", st.Login, st.Role) })
}

func cmdStaffDeactivate(ctx context.Context, c *cmdCtx) error {
	return c.staffChange(ctx, "deactivated: their sessions ended", func(svc *auth.Service, actor string, id int64) error {
		return svc.Deactivate(ctx, actor, id)
	})
}

func cmdStaffReactivate(ctx context.Context, c *cmdCtx) error {
	return c.staffChange(ctx, "reactivated", func(svc *auth.Service, actor string, id int64) error {
		return svc.Reactivate(ctx, actor, id)
	})
}

func (c *cmdCtx) staffChange(ctx context.Context, what string, fn func(*auth.Service, string, int64) error) error {
	eng, actor, err := c.openAudited(ctx, auth.PermStaff)
	if err != nil {
		return err
	}
	defer eng.Close()
	svc, err := eng.Auth()
	if err != nil {
		return err
	}
	st, err := svc.Get(ctx, c.args[0])
	if err != nil {
		return fmt.Errorf("staff %s: %w", c.args[0], err)
	}
	if err := fn(svc, actor, st.ID); err != nil {
		return err
	}
	return c.print(map[string]string{"login": st.Login, "result": what}, func(w io.Writer) { fmt.Fprintf(w, "staff %s %s\n", st.Login, what) })
}

func cmdStaffRequireSignin(ctx context.Context, c *cmdCtx) error {
	v := c.args[0]
	if v != "on" && v != "off" {
		return errors.New(`expected "on" or "off"`)
	}
	eng, actor, err := c.openAudited(ctx, auth.PermSettings)
	if err != nil {
		return err
	}
	defer eng.Close()
	if err := auth.SetSetting(ctx, eng.DB(), actor, settingCLISignin, v); err != nil {
		return err
	}
	return c.print(map[string]string{"requireSignin": v}, func(w io.Writer) { fmt.Fprintf(w, "staff sign-in for tsunagu-cli: %s\n", v) })
}

// --- helpers ---

func recordCLI(ctx context.Context, eng *engine.Engine, actor, action, target string, detail map[string]string) error {
	return eng.DB().Write(ctx, func(tx *sql.Tx) error {
		_, err := audit.Record(ctx, tx, audit.Entry{Actor: actor, Action: action, Target: target, Detail: detail})
		return err
	})
}

func osUser() string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username
	}
	return "unknown"
}

// stdinLines is shared by the prompts of one invocation: a bufio.Reader
// must not be recreated between lines or it loses buffered input.
func (c *cmdCtx) lines() *bufio.Reader {
	if c.stdinReader == nil {
		c.stdinReader = bufio.NewReader(io.LimitReader(c.stdin, 64<<10))
	}
	return c.stdinReader
}

func (c *cmdCtx) readLine(prompt string) (string, error) {
	if f, ok := c.stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fmt.Fprint(c.stderr, prompt)
	}
	l, err := c.lines().ReadString('\n')
	if err != nil && !(errors.Is(err, io.EOF) && l != "") {
		return "", fmt.Errorf("read %s from standard input: %w", strings.TrimSuffix(prompt, ": "), err)
	}
	return strings.TrimSpace(l), nil
}

// readSecretLine prompts without echo on a terminal, or reads one line of
// standard input.
func (c *cmdCtx) readSecretLine(prompt string) (string, error) {
	if f, ok := c.stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		return promptHidden(c.stderr, f, prompt)
	}
	return c.readLine(prompt)
}

// --- backups, recovery, key rotation, erasure ---

func cmdBackupCreate(ctx context.Context, c *cmdCtx) error {
	eng, actor, err := c.openAudited(ctx, auth.PermBackup)
	if err != nil {
		return err
	}
	defer eng.Close()
	dir, err := filepath.Abs(c.args[0])
	if err != nil {
		return err
	}
	// The same service as the window's button and schedule: the backup
	// is recorded, so the schedule counts it.
	r, err := eng.Backups().Create(ctx, actor, dir)
	if err != nil {
		return err
	}
	return c.print(r.Manifest, func(w io.Writer) {
		fmt.Fprintf(w, "backup:   %s (%d bytes, encrypted, verified)\n", r.Path, r.SizeBytes)
		fmt.Fprintf(w, "audit:    %d entries, head %s\n", r.AuditEntries, r.AuditHead)
		if len(r.Pruned) > 0 {
			fmt.Fprintf(w, "removed:  %d older backup(s) (keeping %d)\n", len(r.Pruned), r.Keep)
		}
	})
}

func cmdBackupVerify(ctx context.Context, c *cmdCtx) error {
	file, err := filepath.Abs(c.args[0])
	if err != nil {
		return err
	}
	m, err := backup.ReadManifest(file)
	if err != nil {
		return err
	}
	key, err := c.backupKey(ctx, file, m)
	if err != nil {
		return err
	}
	defer clear(key)
	m, err = backup.Verify(ctx, file, key)
	if err != nil {
		return err
	}
	return c.print(m, func(w io.Writer) {
		fmt.Fprintf(w, "backup %s: intact (schema %d, %d audit entries, head %s)\n", m.File, m.SchemaVersion, m.AuditEntries, m.AuditHead)
	})
}

// cmdBackupRestore restores a backup into a new data folder (--data-dir,
// which must not hold a database yet). The key comes from this computer's
// keychain if it has it, otherwise from the recovery code on standard
// input and the recovery file kept next to the backups.
func cmdBackupRestore(ctx context.Context, c *cmdCtx) error {
	file, err := filepath.Abs(c.args[0])
	if err != nil {
		return err
	}
	m, err := backup.ReadManifest(file)
	if err != nil {
		return err
	}
	if _, err := os.Stat(filepath.Join(c.dataDir, "tsunagu.db")); err == nil {
		return fmt.Errorf("%s already has a database: restore into a new, empty data folder", c.dataDir)
	}
	key, err := c.backupKey(ctx, file, m)
	if err != nil {
		return err
	}
	defer clear(key)
	dir, err := datadir.Ensure(c.dataDir)
	if err != nil {
		return err
	}
	id, err := dir.InstallID()
	if err != nil {
		return err
	}
	if _, err := backup.Restore(ctx, file, key, dir.DBPath()); err != nil {
		return err
	}
	if err := secrets.New(c.keyring, id).ImportDBKey(ctx, key); err != nil {
		return fmt.Errorf("the database was restored but its key could not be stored in the keychain (run `tsunagu-cli recovery restore`): %w", err)
	}
	// The same printed recovery code keeps working for the restored copy.
	if rf, err := recovery.Load(recoveryFileFor(file, m.KeyID)); err == nil {
		if err := recovery.Save(dir.File(recovery.FileName), rf); err != nil {
			return err
		}
	}
	eng, actor, err := c.openAudited(ctx, "")
	if err != nil {
		return err
	}
	defer eng.Close()
	if err := recordCLI(ctx, eng, actor, audit.ActionBackupRestore, m.File, map[string]string{"from": m.InstallID, "auditHead": m.AuditHead}); err != nil {
		return err
	}
	return c.print(map[string]any{"dataDir": dir.Path, "backup": m}, func(w io.Writer) {
		fmt.Fprintf(w, "restored %s into %s (key stored in this keychain)\n", m.File, dir.Path)
	})
}

// backupKey finds the key of a backup: this keychain (the install it came
// from, current or previous key), or the recovery code.
func (c *cmdCtx) backupKey(ctx context.Context, file string, m backup.Manifest) ([]byte, error) {
	if m.InstallID != "" {
		src := secrets.New(c.keyring, m.InstallID)
		for _, item := range []secrets.Item{secrets.ItemDBKey, secrets.ItemDBKeyPrevious} {
			if k, err := src.KeyOf(ctx, item); err == nil && recovery.KeyID(k) == m.KeyID {
				return k, nil
			}
		}
	}
	rf, err := recovery.Load(recoveryFileFor(file, m.KeyID))
	if err != nil {
		return nil, fmt.Errorf("the backup's key is not in this keychain and %w", err)
	}
	code, err := c.readSecretLine("Recovery code: ")
	if err != nil {
		return nil, err
	}
	return rf.Unwrap(code)
}

func recoveryFileFor(backupFile, keyID string) string {
	return filepath.Join(filepath.Dir(backupFile), "recovery-"+keyID+".json")
}

// cmdRecoveryRestore puts the DB key back into the keychain from the
// recovery code (read from standard input) and the data folder's
// recovery.json, e.g. on a new PC with a copied data folder.
func cmdRecoveryRestore(ctx context.Context, c *cmdCtx) error {
	dir, err := datadir.Existing(c.dataDir)
	if err != nil {
		return err
	}
	id, err := dir.ReadInstallID()
	if err != nil {
		return err
	}
	rf, err := recovery.Load(dir.File(recovery.FileName))
	if err != nil {
		return err
	}
	code, err := c.readSecretLine("Recovery code: ")
	if err != nil {
		return err
	}
	key, err := rf.Unwrap(code)
	if err != nil {
		return err
	}
	defer clear(key)
	rep, err := store.Verify(ctx, dir.DBPath(), key)
	if err != nil {
		return err
	}
	if !rep.OpensWithKey {
		return store.ErrWrongKey
	}
	if err := secrets.New(c.keyring, id).ImportDBKey(ctx, key); err != nil {
		return err
	}
	eng, actor, err := c.openAudited(ctx, "")
	if err != nil {
		return err
	}
	defer eng.Close()
	if err := recordCLI(ctx, eng, actor, audit.ActionRecoveryRestore, "", map[string]string{"keyId": rf.KeyID}); err != nil {
		return err
	}
	return c.print(map[string]string{"result": "restored", "keyId": rf.KeyID}, func(w io.Writer) {
		fmt.Fprintln(w, "database key restored into the keychain from the recovery code; the database opens again")
	})
}

// cmdRecoveryCreate issues a new recovery code (printed once).
func cmdRecoveryCreate(ctx context.Context, c *cmdCtx) error {
	eng, actor, err := c.openAudited(ctx, auth.PermBackup)
	if err != nil {
		return err
	}
	defer eng.Close()
	code, err := eng.Backups().IssueRecoveryCode(ctx, actor, recovery.KDF{})
	if err != nil {
		return err
	}
	return c.print(map[string]string{"recoveryCode": code}, func(w io.Writer) {
		fmt.Fprintf(w, "recovery code (shown once; print it and keep it safe):\n\n    %s\n\n", code)
	})
}

// cmdRotateKey re-encrypts the DB under a new key (the app must be closed)
// and issues a new recovery code for it.
func cmdRotateKey(ctx context.Context, c *cmdCtx) error {
	eng, actor, err := c.openAudited(ctx, auth.PermSettings)
	if err != nil {
		return err
	}
	eng.Close() // the rotation needs the database to itself
	dir, err := datadir.Existing(c.dataDir)
	if err != nil {
		return err
	}
	id, err := dir.ReadInstallID()
	if err != nil {
		return err
	}
	res, err := keyrotate.Rotate(ctx, dir, secrets.New(c.keyring, id), keyrotate.Options{})
	if err != nil {
		return err
	}
	eng, err = engine.Open(ctx, c.dataDir, c.keyring)
	if err != nil {
		return err
	}
	defer eng.Close()
	if err := recordCLI(ctx, eng, actor, audit.ActionKeyRotate, "", map[string]string{"oldKeyId": res.OldKeyID, "newKeyId": res.NewKeyID}); err != nil {
		return err
	}
	code, err := eng.Backups().IssueRecoveryCode(ctx, actor, recovery.KDF{})
	if err != nil {
		return err
	}
	return c.print(map[string]string{"oldKeyId": res.OldKeyID, "newKeyId": res.NewKeyID, "recoveryCode": code}, func(w io.Writer) {
		fmt.Fprintf(w, "database re-encrypted under a new key (%s → %s)\n", res.OldKeyID, res.NewKeyID)
		fmt.Fprintf(w, "new recovery code (the old one only opens older backups; print this one):\n\n    %s\n\n", code)
	})
}

// cmdEraseConversation deletes a LINE user's conversation, messages and
// media on their request (APPI).
func cmdEraseConversation(ctx context.Context, c *cmdCtx) error {
	id, err := strconv.ParseInt(c.args[0], 10, 64)
	if err != nil {
		return fmt.Errorf("conversation ID: %w", err)
	}
	eng, actor, err := c.openAudited(ctx, auth.PermErase)
	if err != nil {
		return err
	}
	defer eng.Close()
	res, err := eng.Erasure().EraseConversation(ctx, actor, id)
	if err != nil {
		return err
	}
	return c.print(res, func(w io.Writer) {
		fmt.Fprintf(w, "erased conversation %d: %d message(s); only an audit entry remains\n", id, res.Messages)
	})
}

// cmdEraseCustomer deletes a customer (by customer number) with their
// contact points, consents, products, attributes, tags and LINE link, and
// the linked LINE user's conversation, messages and media, on their
// request (APPI).
func cmdEraseCustomer(ctx context.Context, c *cmdCtx) error {
	eng, actor, err := c.openAudited(ctx, auth.PermErase)
	if err != nil {
		return err
	}
	defer eng.Close()
	id, err := eng.Customers().IDByNumber(ctx, c.args[0])
	if err != nil {
		return fmt.Errorf("customer %s: %w", c.args[0], err)
	}
	res, err := eng.Erasure().EraseCustomer(ctx, actor, id)
	if err != nil {
		return err
	}
	return c.print(res, func(w io.Writer) {
		fmt.Fprintf(w, "erased customer %s: %d conversation(s), %d message(s); only an audit entry remains\n", c.args[0], res.Conversations, res.Messages)
	})
}

// auditedChange is for commands whose change is not in the DB (keychain
// items): it signs the staff member in first if required, and records the
// change afterwards, under the OS user or the staff member.
type auditedChange struct {
	eng   *engine.Engine
	actor string
}

func (c *cmdCtx) auditedChange(ctx context.Context, perm auth.Permission) (*auditedChange, error) {
	eng, actor, err := c.openAudited(ctx, perm)
	if err != nil {
		return nil, err
	}
	return &auditedChange{eng: eng, actor: actor}, nil
}

func (a *auditedChange) Record(ctx context.Context, action string) error {
	return recordCLI(ctx, a.eng, a.actor, action, "", nil)
}

func (a *auditedChange) Close() error { return a.eng.Close() }

// stdinSource is standard input, or the buffered reader the prompts use
// once one was made (so a password line read first is not lost).
func (c *cmdCtx) stdinSource() io.Reader {
	if c.stdinReader != nil {
		return c.stdinReader
	}
	return c.stdin
}
