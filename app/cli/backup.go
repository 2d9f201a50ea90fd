package main

import (
	"context"
	"fmt"
	"io"
	"path/filepath"

	"tsunagu/internal/auth"
	"tsunagu/internal/backup"
	"tsunagu/internal/engine"
	"tsunagu/internal/recovery"
)

// Backups and the recovery code: the same backup service as the window's
// button and schedule (engine.Backups), so a backup made here counts for the
// schedule; restoring and recovering are engine functions.
func backupCommands() []command {
	return []command{
		{name: "backup create", args: "DIR", short: "write an encrypted, verified backup into DIR (e.g. a NAS folder) and prune old ones", run: cmdBackupCreate},
		{name: "backup verify", args: "FILE", short: "check a backup against its manifest and its key", run: cmdBackupVerify},
		{name: "backup restore", args: "FILE", short: "restore a backup into a new --data-dir (recovery code on standard input if the key is not in this keychain)", run: cmdBackupRestore},
		{name: "recovery create", short: "issue a new recovery code for the DB key (printed once)", run: cmdRecoveryCreate},
		{name: "recovery restore", short: "put the DB key back into the keychain from the recovery code (read from standard input)", run: cmdRecoveryRestore},
	}
}

func cmdBackupCreate(ctx context.Context, c *cmdCtx, args []string) error {
	dir, err := filepath.Abs(args[0])
	if err != nil {
		return err
	}
	eng, actor, err := c.openAudited(ctx, auth.PermBackup)
	if err != nil {
		return err
	}
	defer eng.Close()
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

func cmdBackupVerify(ctx context.Context, c *cmdCtx, args []string) error {
	file, err := filepath.Abs(args[0])
	if err != nil {
		return err
	}
	m, err := backup.Check(ctx, c.keyring, file, c.recoveryCode)
	if err != nil {
		return err
	}
	return c.print(m, func(w io.Writer) {
		fmt.Fprintf(w, "backup %s: intact (schema %d, %d audit entries, head %s)\n", m.File, m.SchemaVersion, m.AuditEntries, m.AuditHead)
	})
}

// cmdBackupRestore restores a backup into a new data folder (--data-dir),
// then records it under whoever runs the command there.
func cmdBackupRestore(ctx context.Context, c *cmdCtx, args []string) error {
	file, err := filepath.Abs(args[0])
	if err != nil {
		return err
	}
	m, err := engine.RestoreBackup(ctx, c.dataDir, c.keyring, file, c.recoveryCode)
	if err != nil {
		return err
	}
	eng, actor, err := c.openAudited(ctx, "")
	if err != nil {
		return err
	}
	defer eng.Close()
	if err := eng.Backups().RecordRestore(ctx, actor, m); err != nil {
		return err
	}
	return c.print(map[string]any{"dataDir": eng.DataDir(), "backup": m}, func(w io.Writer) {
		fmt.Fprintf(w, "restored %s into %s (key stored in this keychain)\n", m.File, eng.DataDir())
	})
}

// cmdRecoveryCreate issues a new recovery code (printed once).
func cmdRecoveryCreate(ctx context.Context, c *cmdCtx, _ []string) error {
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

// cmdRecoveryRestore puts the DB key back into the keychain from the
// recovery code (standard input) and the data folder's recovery.json, e.g.
// on a new PC with a copied data folder.
func cmdRecoveryRestore(ctx context.Context, c *cmdCtx, _ []string) error {
	keyID, err := engine.RestoreKey(ctx, c.dataDir, c.keyring, c.recoveryCode)
	if err != nil {
		return err
	}
	eng, actor, err := c.openAudited(ctx, "")
	if err != nil {
		return err
	}
	defer eng.Close()
	if err := eng.Backups().RecordKeyRestored(ctx, actor, keyID); err != nil {
		return err
	}
	return c.print(map[string]string{"result": "restored", "keyId": keyID}, func(w io.Writer) {
		fmt.Fprintln(w, "database key restored into the keychain from the recovery code; the database opens again")
	})
}
