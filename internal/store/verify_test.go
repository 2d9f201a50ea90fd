package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestVerify(t *testing.T) {
	ctx := context.Background()
	migs, err := loadMigrations(migrationFiles)
	if err != nil {
		t.Fatal(err)
	}

	type setup func(t *testing.T) (path string, key []byte, db *DB)
	closed := func(t *testing.T) (string, []byte, *DB) {
		path, key, db := createDB(t)
		insertCustomer(t, db)
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
		return path, key, nil
	}
	for _, tc := range []struct {
		name  string
		setup setup
		check func(t *testing.T, r Report)
	}{
		{
			name:  "healthy",
			setup: closed,
			check: func(t *testing.T, r Report) {
				if !r.OK() || r.Integrity != "ok" || r.SchemaVersion != len(migs) {
					t.Fatalf("report %+v", r)
				}
				st, err := os.Stat(r.Path)
				if err != nil || r.SizeBytes != st.Size() {
					t.Fatalf("SizeBytes %d, file %v", r.SizeBytes, err)
				}
			},
		},
		{
			name: "wrong key",
			setup: func(t *testing.T) (string, []byte, *DB) {
				path, _, _ := closed(t)
				return path, newKey(t), nil
			},
			check: func(t *testing.T, r Report) {
				if !r.Encrypted || r.OpensWithKey || r.OK() || !strings.HasPrefix(r.Integrity, "not checked") {
					t.Fatalf("report %+v", r)
				}
			},
		},
		{
			name: "plaintext",
			setup: func(t *testing.T) (string, []byte, *DB) {
				path := filepath.Join(t.TempDir(), "tsunagu.db")
				createPlaintext(t, path, false)
				return path, newKey(t), nil
			},
			check: func(t *testing.T, r Report) {
				if r.Encrypted || r.OpensWithKey || r.OK() || !strings.Contains(r.Integrity, ErrPlaintext.Error()) {
					t.Fatalf("report %+v", r)
				}
			},
		},
		{
			name: "newer schema",
			setup: func(t *testing.T) (string, []byte, *DB) {
				path, key, db := createDB(t)
				if _, err := db.Writer().Exec(`PRAGMA user_version=42`); err != nil {
					t.Fatal(err)
				}
				if err := db.Close(); err != nil {
					t.Fatal(err)
				}
				return path, key, nil
			},
			check: func(t *testing.T, r Report) {
				if r.SchemaVersion != 42 || !r.OK() {
					t.Fatalf("report %+v", r)
				}
			},
		},
		{
			name: "open in Tsunagu",
			setup: func(t *testing.T) (string, []byte, *DB) {
				path, key, db := createDB(t)
				insertCustomer(t, db)
				return path, key, db
			},
			check: func(t *testing.T, r Report) {
				if !r.OpensWithKey || r.OK() || !strings.Contains(r.Integrity, "-wal file is present") {
					t.Fatalf("report %+v", r)
				}
			},
		},
		{
			name: "corrupted page",
			setup: func(t *testing.T) (string, []byte, *DB) {
				path, key, db := createDB(t)
				for range 50 {
					insertCustomerN(t, db)
				}
				if err := db.Close(); err != nil {
					t.Fatal(err)
				}
				// Flip a byte in the last page: it decrypts to garbage.
				b, err := os.ReadFile(path)
				if err != nil {
					t.Fatal(err)
				}
				b[len(b)-blockSize/2] ^= 0xff
				if err := os.WriteFile(path, b, 0o600); err != nil {
					t.Fatal(err)
				}
				return path, key, nil
			},
			check: func(t *testing.T, r Report) {
				if !r.OpensWithKey || r.OK() || r.Integrity == "ok" || strings.HasPrefix(r.Integrity, "not checked") {
					t.Fatalf("corruption not reported: %+v", r)
				}
				for _, s := range []string{customerName, messageBody, canary} {
					if strings.Contains(r.Integrity, s) {
						t.Fatalf("report contains customer data: %q", r.Integrity)
					}
				}
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path, key, db := tc.setup(t)
			if db != nil {
				defer db.Close()
			}
			dir := filepath.Dir(path)
			before := snapshot(t, dir)
			r, err := Verify(ctx, path, key)
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if r.Path != path {
				t.Errorf("Path = %q, want %q", r.Path, path)
			}
			tc.check(t, r)
			assertSameFiles(t, before, snapshot(t, dir))
		})
	}

	t.Run("missing", func(t *testing.T) {
		dir := t.TempDir()
		_, err := Verify(ctx, filepath.Join(dir, "tsunagu.db"), newKey(t))
		if !errors.Is(err, ErrNotExist) {
			t.Fatalf("err = %v, want ErrNotExist", err)
		}
		if names := fileNames(t, dir); len(names) != 0 {
			t.Fatalf("created %v", names)
		}
	})
	t.Run("bad key length", func(t *testing.T) {
		path, _, _ := closed(t)
		if _, err := Verify(ctx, path, make([]byte, 16)); err == nil {
			t.Fatal("16-byte key accepted")
		}
	})
}

// insertCustomerN adds one more customer with a unique LINE user ID.
func insertCustomerN(t *testing.T, db *DB) {
	t.Helper()
	err := db.Write(context.Background(), func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRow(`SELECT count(*) FROM line_users`).Scan(&n); err != nil {
			return err
		}
		id := fmt.Sprintf("U%032d", n)
		if _, err := tx.Exec(`INSERT INTO line_users(user_id, display_name, created_at) VALUES (?, ?, 1)`,
			id, strings.Repeat(customerName, 20)); err != nil {
			return err
		}
		_, err := tx.Exec(`INSERT INTO conversations(line_user_id, last_preview, created_at) VALUES (?, ?, 1)`,
			id, strings.Repeat(messageBody, 20))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}
