package keyrotate_test

import (
	"bufio"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"tsunagu/internal/audit"
	"tsunagu/internal/datadir"
	"tsunagu/internal/engine"
	"tsunagu/internal/keyrotate"
	"tsunagu/internal/recovery"
	"tsunagu/internal/secrets"
	"tsunagu/internal/secrets/secretstest"
)

const (
	childDirEnv   = "TSUNAGU_ROTATE_CHILD_DIR"
	childPauseEnv = "TSUNAGU_ROTATE_PAUSE"
	rows          = 200
)

// TestRotateChild is not a test on its own: TestRotationSurvivesKill runs
// the test binary again with this test selected, and kills it where it
// pauses.
func TestRotateChild(t *testing.T) {
	dir := os.Getenv(childDirEnv)
	if dir == "" {
		t.Skip("helper process for TestRotationSurvivesKill")
	}
	d := datadir.Dir{Path: dir}
	id, err := d.ReadInstallID()
	if err != nil {
		t.Fatal(err)
	}
	pauseAt := os.Getenv(childPauseEnv)
	_, err = keyrotate.Rotate(context.Background(), d, secrets.New(secrets.OSKeyring(), id), keyrotate.Options{Pause: func(step string) {
		if step == pauseAt {
			fmt.Printf("PAUSED %s\n", step)
			os.Stdout.Sync()
			time.Sleep(time.Hour) // killed here
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
}

func seed(t *testing.T, kr secrets.Keyring) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "data")
	secretstest.CleanupDataDir(t, kr, dir)
	ctx := context.Background()
	if _, err := engine.Init(ctx, dir, kr); err != nil {
		t.Fatal(err)
	}
	eng, err := engine.Open(ctx, dir, kr)
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	err = eng.DB().Write(ctx, func(tx *sql.Tx) error {
		for i := range rows {
			if _, err := audit.Record(ctx, tx, audit.Entry{Actor: "staff:a", Action: "test.row", Target: fmt.Sprint(i)}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// check opens the folder as the app would (engine.Open resumes a rotation)
// and checks that every row is there and the chain intact.
func check(t *testing.T, kr secrets.Keyring, dir string) string {
	t.Helper()
	ctx := context.Background()
	eng, err := engine.Open(ctx, dir, kr)
	if err != nil {
		t.Fatalf("open after the kill: %v", err)
	}
	defer eng.Close()
	rep, err := audit.Verify(ctx, eng.DB().Reader())
	if err != nil || !rep.OK || rep.Entries != rows {
		t.Fatalf("data after the kill: %+v %v", rep, err)
	}
	key, err := eng.Secrets().DBKey(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "key-rotation.json")); !os.IsNotExist(err) {
		t.Fatal("journal left behind")
	}
	if _, err := os.Stat(filepath.Join(dir, "tsunagu.db.rotating")); !os.IsNotExist(err) {
		t.Fatal("copy left behind")
	}
	if _, err := eng.Secrets().KeyOf(ctx, secrets.ItemDBKeyNext); !errors.Is(err, secrets.ErrNotFound) {
		t.Fatalf("next key left behind: %v", err)
	}
	return recovery.KeyID(key)
}

func keyID(t *testing.T, kr secrets.Keyring, dir string) string {
	t.Helper()
	id, _ := datadir.Dir{Path: dir}.ReadInstallID()
	key, err := secrets.New(kr, id).DBKey(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return recovery.KeyID(key)
}

// TestRotationSurvivesKill kills a real rotation process (SIGKILL) at each
// step and checks that the next open finishes or undoes it without losing
// a row, and that a new rotation then completes.
func TestRotationSurvivesKill(t *testing.T) {
	kr := secretstest.RealKeyring(t)
	for _, tt := range []struct {
		step       string
		rolledBack bool
	}{
		{"copied", true},
		{"swapping", false},
		{"swapped", false},
	} {
		t.Run(tt.step, func(t *testing.T) {
			dir := seed(t, kr)
			before := keyID(t, kr, dir)

			cmd := exec.Command(os.Args[0], "-test.run=^TestRotateChild$", "-test.v")
			cmd.Env = append(os.Environ(), childDirEnv+"="+dir, childPauseEnv+"="+tt.step)
			out, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			cmd.Stderr = os.Stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			sc := bufio.NewScanner(out)
			paused := false
			for sc.Scan() {
				if strings.HasPrefix(sc.Text(), "PAUSED "+tt.step) {
					paused = true
					break
				}
			}
			if !paused {
				cmd.Process.Kill()
				cmd.Wait()
				t.Fatalf("child did not reach step %s", tt.step)
			}
			if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			cmd.Wait()
			if _, err := os.Stat(filepath.Join(dir, "key-rotation.json")); err != nil {
				t.Fatalf("the kill left no journal: %v", err)
			}

			after := check(t, kr, dir)
			if tt.rolledBack != (after == before) {
				t.Fatalf("key before %s, after %s; rolled back: want %v", before, after, tt.rolledBack)
			}

			// A full rotation now succeeds and keeps everything.
			id, _ := datadir.Dir{Path: dir}.ReadInstallID()
			sec := secrets.New(kr, id)
			res, err := keyrotate.Rotate(context.Background(), datadir.Dir{Path: dir}, sec, keyrotate.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if res.OldKeyID != after || res.NewKeyID == after || check(t, kr, dir) != res.NewKeyID {
				t.Fatalf("second rotation %+v", res)
			}
			prev, err := sec.KeyOf(context.Background(), secrets.ItemDBKeyPrevious)
			if err != nil || recovery.KeyID(prev) != after {
				t.Fatalf("previous key kept for old backups: %v", err)
			}
		})
	}
}

// TestRotationRefusesWhileInUse: another process (here: another open) has
// the database; the rotation must not replace the file under it.
func TestRotationRefusesWhileInUse(t *testing.T) {
	kr := secretstest.RealKeyring(t)
	dir := seed(t, kr)
	before := keyID(t, kr, dir)
	eng, err := engine.Open(context.Background(), dir, kr)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := eng.DB().Reader().Exec(`SELECT count(*) FROM audit_log`); err != nil {
		t.Fatal(err)
	}
	id, _ := datadir.Dir{Path: dir}.ReadInstallID()
	_, err = keyrotate.Rotate(context.Background(), datadir.Dir{Path: dir}, secrets.New(kr, id), keyrotate.Options{})
	eng.Close()
	if err == nil || !strings.Contains(err.Error(), "in use") {
		t.Fatalf("rotation while open: %v", err)
	}
	if after := check(t, kr, dir); after != before {
		t.Fatal("key changed by a refused rotation")
	}
}
