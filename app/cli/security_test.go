package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"tsunagu/internal/datadir"
	"tsunagu/internal/engine"
	"tsunagu/internal/secrets"
	"tsunagu/internal/secrets/secretstest"
)

func TestCLIStaffAndAuditVerify(t *testing.T) {
	kr := secretstest.Keyring(t)
	dir := filepath.Join(t.TempDir(), "data")
	secretstest.CleanupDataDir(t, kr, dir)
	if r := cli(t, kr, "", "init", "--data-dir", dir); r.code != 0 {
		t.Fatalf("init: %+v", r)
	}
	if r := cli(t, kr, "支店長\nadmin password 1\n", "staff", "add", "admin", "admin", "--data-dir", dir); r.code != 0 {
		t.Fatalf("staff add admin: %+v", r)
	}
	if r := cli(t, kr, "田中\nshort\n", "staff", "add", "tanaka", "operator", "--data-dir", dir); r.code == 0 {
		t.Fatalf("weak password accepted: %+v", r)
	}
	if r := cli(t, kr, "田中\noperator password\n", "staff", "add", "tanaka", "operator", "--data-dir", dir); r.code != 0 {
		t.Fatalf("staff add: %+v", r)
	}
	if r := cli(t, kr, "", "staff", "deactivate", "tanaka", "--data-dir", dir); r.code != 0 {
		t.Fatalf("deactivate: %+v", r)
	}
	r := cli(t, kr, "", "staff", "list", "--data-dir", dir)
	if r.code != 0 || !strings.Contains(r.stdout, "tanaka") || strings.Contains(r.stdout, "operator password") {
		t.Fatalf("staff list: %+v", r)
	}
	if r := cli(t, kr, "", "staff", "deactivate", "--data-dir", dir); r.code != 2 {
		t.Fatalf("missing argument: %+v", r)
	}

	r = cli(t, kr, "", "audit", "verify", "--data-dir", dir)
	if r.code != 0 || !strings.Contains(r.stdout, "intact, 3 entries") {
		t.Fatalf("audit verify: %+v", r)
	}
	r = cli(t, kr, "", "audit", "export", "--data-dir", dir)
	if r.code != 0 || !strings.Contains(r.stdout, "staff.deactivate") || !strings.Contains(r.stdout, "os:") {
		t.Fatalf("audit export: %+v", r)
	}

	// Tamper with entry 2 directly in the DB, as someone with the key and
	// an SQLite shell would.
	eng, err := engine.Open(context.Background(), dir, kr)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{`DROP TRIGGER audit_log_no_update`, `UPDATE audit_log SET actor = 'os:nobody' WHERE seq = 2`} {
		if _, err := eng.DB().Writer().Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	eng.Close()
	r = cli(t, kr, "", "audit", "verify", "--data-dir", dir)
	if r.code == 0 || !strings.Contains(r.stdout, "BROKEN at entry #2") {
		t.Fatalf("tampered audit verify: %+v", r)
	}
	r = cli(t, kr, "", "audit", "verify", "--data-dir", dir, "--json")
	var rep struct {
		OK       bool
		BrokenAt int64
	}
	if json.Unmarshal([]byte(r.stdout), &rep) != nil || rep.OK || rep.BrokenAt != 2 {
		t.Fatalf("json: %+v", r)
	}
}

func TestCLIRequireSignin(t *testing.T) {
	kr := secretstest.Keyring(t)
	dir := filepath.Join(t.TempDir(), "data")
	secretstest.CleanupDataDir(t, kr, dir)
	cli(t, kr, "", "init", "--data-dir", dir)
	if r := cli(t, kr, "支店長\nadmin password 1\n", "staff", "add", "admin", "admin", "--data-dir", dir); r.code != 0 {
		t.Fatalf("staff add admin: %+v", r)
	}
	if r := cli(t, kr, "", "staff", "require-signin", "on", "--data-dir", dir); r.code != 0 {
		t.Fatalf("require-signin: %+v", r)
	}
	t.Setenv(StaffEnv, "")
	if r := cli(t, kr, "", "staff", "list", "--data-dir", dir); r.code == 0 || !strings.Contains(r.stderr, StaffEnv) {
		t.Fatalf("without sign-in: %+v", r)
	}
	t.Setenv(StaffEnv, "admin")
	if r := cli(t, kr, "wrong password\n", "staff", "list", "--data-dir", dir); r.code == 0 {
		t.Fatalf("wrong password: %+v", r)
	}
	if r := cli(t, kr, "admin password 1\n", "audit", "export", "--data-dir", dir); r.code == 0 {
		t.Fatalf("admin may not export the audit trail: %+v", r)
	}
	// A keychain change (channel credentials) also needs the sign-in, and is
	// audited under the staff member.
	const secret, token = "0123456789abcdef0123456789abcdef", "CLI-TOKEN-VALUE-1234567890-abcdWXYZ"
	t.Setenv(StaffEnv, "")
	if r := cli(t, kr, secret+"\n"+token+"\n", "channel", "set", "--data-dir", dir); r.code == 0 {
		t.Fatalf("channel set without sign-in: %+v", r)
	}
	t.Setenv(StaffEnv, "admin")
	if r := cli(t, kr, "admin password 1\n"+secret+"\n"+token+"\n", "channel", "set", "--data-dir", dir); r.code != 0 {
		t.Fatalf("channel set signed in: %+v", r)
	}
	// A second administrator added by the first has a password the first
	// knows: like the window, the CLI refuses them until they chose their
	// own.
	if r := cli(t, kr, "admin password 1\n加藤\nkato initial password\n", "staff", "add", "kato", "admin", "--data-dir", dir); r.code != 0 {
		t.Fatalf("staff add kato: %+v", r)
	}
	t.Setenv(StaffEnv, "kato")
	if r := cli(t, kr, "kato initial password\n", "staff", "list", "--data-dir", dir); r.code == 0 || !strings.Contains(r.stderr, "choose their own password") {
		t.Fatalf("administrator-set password accepted by the CLI: %+v", r)
	}
	// They choose their own (two different new ones change nothing), and
	// then may work.
	if r := cli(t, kr, "kato initial password\nkato own password 1\nkato own password 2\n", "staff", "password", "--data-dir", dir); r.code == 0 || !strings.Contains(r.stderr, "differ") {
		t.Fatalf("mismatched new passwords: %+v", r)
	}
	if r := cli(t, kr, "kato initial password\nkato own password 1\nkato own password 1\n", "staff", "password", "--data-dir", dir); r.code != 0 {
		t.Fatalf("staff password: %+v", r)
	}
	if r := cli(t, kr, "kato own password 1\n", "staff", "list", "--data-dir", dir); r.code != 0 || !strings.Contains(r.stdout, "kato") {
		t.Fatalf("after choosing their own password: %+v", r)
	}
	t.Setenv(StaffEnv, "admin")
	r := cli(t, kr, "admin password 1\n", "staff", "require-signin", "off", "--data-dir", dir)
	if r.code != 0 {
		t.Fatalf("signed in: %+v", r)
	}
	t.Setenv(StaffEnv, "")
	r = cli(t, kr, "", "audit", "export", "--data-dir", dir)
	if r.code != 0 || !strings.Contains(r.stdout, "staff:admin,settings.change") || !strings.Contains(r.stdout, "staff:admin,channel.set") {
		t.Fatalf("audited under the staff member: %+v", r)
	}
}

// TestCLIBackupRecoveryRotation: backup → verify → restore into a new data
// folder; the keychain item lost → the recovery code restores it; a backup
// restored with only the code; a key rotation keeps old backups restorable.
func TestCLIBackupRecoveryRotation(t *testing.T) {
	kr := secretstest.RealKeyring(t)
	base := t.TempDir()
	dirA, dirB, dirC, nas := filepath.Join(base, "a"), filepath.Join(base, "b"), filepath.Join(base, "c"), filepath.Join(base, "nas")
	for _, d := range []string{dirA, dirB, dirC} {
		secretstest.CleanupDataDir(t, kr, d)
	}
	must := func(r result, what string) result {
		t.Helper()
		if r.code != 0 {
			t.Fatalf("%s: %+v", what, r)
		}
		return r
	}
	must(cli(t, kr, "", "init", "--data-dir", dirA), "init")
	must(cli(t, kr, "支店長\nadmin password 1\n", "staff", "add", "admin", "admin", "--data-dir", dirA), "staff add")

	var rc struct{ RecoveryCode string }
	r := must(cli(t, kr, "", "recovery", "create", "--data-dir", dirA, "--json"), "recovery create")
	if json.Unmarshal([]byte(r.stdout), &rc) != nil || len(rc.RecoveryCode) != 39 {
		t.Fatalf("recovery code: %+v", r)
	}

	var m struct {
		File         string
		AuditEntries int64
	}
	r = must(cli(t, kr, "", "backup", "create", nas, "--data-dir", dirA, "--json"), "backup create")
	if json.Unmarshal([]byte(r.stdout), &m) != nil || m.File == "" {
		t.Fatalf("backup create: %+v", r)
	}
	file := filepath.Join(nas, m.File)
	must(cli(t, kr, "", "backup", "verify", file), "backup verify")

	// Restore on this computer: the key is in the keychain.
	must(cli(t, kr, "", "backup", "restore", file, "--data-dir", dirB), "backup restore")
	r = must(cli(t, kr, "", "audit", "export", "--data-dir", dirB), "audit export of the restored copy")
	if !strings.Contains(r.stdout, "backup.restore") || !strings.Contains(r.stdout, "staff.first_admin") {
		t.Fatalf("restored trail: %s", r.stdout)
	}
	if r := cli(t, kr, "", "backup", "restore", file, "--data-dir", dirB); r.code == 0 {
		t.Fatal("restore over an existing database succeeded")
	}

	// The keychain item is lost (new PC, reinstalled OS): nothing opens.
	idA := readID(t, dirA)
	kr.Delete(secrets.Service, idA+"/"+string(secrets.ItemDBKey))
	if r := cli(t, kr, "", "audit", "verify", "--data-dir", dirA); r.code == 0 {
		t.Fatal("opened without the key")
	}
	other := strings.Repeat("0000-", 7) + "0000"
	if r := cli(t, kr, other+"\n", "recovery", "restore", "--data-dir", dirA); r.code == 0 || !strings.Contains(r.stderr, "does not match") {
		t.Fatalf("wrong recovery code: %+v", r)
	}
	must(cli(t, kr, rc.RecoveryCode+"\n", "recovery", "restore", "--data-dir", dirA), "recovery restore")
	r = must(cli(t, kr, "", "audit", "verify", "--data-dir", dirA), "audit verify after recovery")

	// A backup restored with only the code (its key is not in the keychain).
	kr.Delete(secrets.Service, idA+"/"+string(secrets.ItemDBKey))
	must(cli(t, kr, strings.ToLower(rc.RecoveryCode)+"\n", "backup", "restore", file, "--data-dir", dirC), "backup restore with the recovery code")
	must(cli(t, kr, "", "audit", "verify", "--data-dir", dirC), "audit verify of C")
	must(cli(t, kr, rc.RecoveryCode+"\n", "recovery", "restore", "--data-dir", dirA), "recovery restore again")

	// Tampering with a backup is caught.
	raw, _ := os.ReadFile(file)
	tampered := filepath.Join(nas, "tampered.db")
	raw[len(raw)-100] ^= 0xff
	os.WriteFile(tampered, raw, 0o600)
	mf, _ := os.ReadFile(file + ".json")
	os.WriteFile(tampered+".json", mf, 0o600)
	if r := cli(t, kr, "", "backup", "verify", tampered); r.code == 0 {
		t.Fatal("tampered backup verified")
	}

	// Key rotation: a new key and code; the old backup still verifies with
	// the previous key kept in the keychain.
	var rot struct{ OldKeyID, NewKeyID, RecoveryCode string }
	r = must(cli(t, kr, "", "db", "rotate-key", "--data-dir", dirA, "--json"), "rotate")
	if json.Unmarshal([]byte(r.stdout), &rot) != nil || rot.OldKeyID == rot.NewKeyID || rot.RecoveryCode == rc.RecoveryCode {
		t.Fatalf("rotate: %+v", r)
	}
	must(cli(t, kr, "", "backup", "verify", file), "old backup after rotation")
	r = must(cli(t, kr, "", "audit", "verify", "--data-dir", dirA), "audit after rotation")
	r = must(cli(t, kr, "", "audit", "export", "--data-dir", dirA), "export after rotation")
	if !strings.Contains(r.stdout, "db.key_rotate") {
		t.Fatalf("rotation not audited: %s", r.stdout)
	}
}

func readID(t *testing.T, dir string) string {
	t.Helper()
	id, err := datadir.Dir{Path: dir}.ReadInstallID()
	if err != nil {
		t.Fatal(err)
	}
	return id
}
