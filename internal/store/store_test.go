package store

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/ncruces/go-sqlite3/driver"

	"tsunagu/internal/store/blockvfs"
)

// Customer-like data that must never be readable on disk.
const (
	customerName = "山田太郎"
	messageBody  = "定期預金の満期について"
	canary       = "TSUNAGU-CANARY-7f3e9a1c"
	lineUserID   = "U0123456789abcdef0123456789abcdef"
)

func newKey(t *testing.T) []byte {
	t.Helper()
	k := make([]byte, KeySize)
	if _, err := rand.Read(k); err != nil {
		t.Fatal(err)
	}
	return k
}

// createDB creates a database in a fresh temp dir and closes it at the end
// of the test.
func createDB(t *testing.T) (path string, key []byte, db *DB) {
	t.Helper()
	path = filepath.Join(t.TempDir(), "tsunagu.db")
	key = newKey(t)
	db, err := Create(context.Background(), path, key)
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return path, key, db
}

// insertCustomer writes a LINE user, a conversation and a message through
// the real schema.
func insertCustomer(t *testing.T, db *DB) {
	t.Helper()
	err := db.Write(context.Background(), func(tx *sql.Tx) error {
		if _, err := tx.Exec(`INSERT INTO line_users(user_id, display_name, created_at) VALUES (?, ?, 1)`,
			lineUserID, customerName+" "+canary); err != nil {
			return err
		}
		res, err := tx.Exec(`INSERT INTO conversations(line_user_id, last_preview, created_at) VALUES (?, ?, 1)`,
			lineUserID, messageBody)
		if err != nil {
			return err
		}
		conv, err := res.LastInsertId()
		if err != nil {
			return err
		}
		_, err = tx.Exec(`INSERT INTO messages(conversation_id, direction, kind, body, created_at) VALUES (?, 'in', 'text', ?, 1)`,
			conv, customerName+"様 "+messageBody+" "+canary)
		return err
	})
	if err != nil {
		t.Fatalf("insert customer: %v", err)
	}
}

func readMessage(t *testing.T, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}) string {
	t.Helper()
	var body string
	if err := q.QueryRowContext(context.Background(),
		`SELECT m.body FROM messages m JOIN conversations c ON c.id = m.conversation_id WHERE c.line_user_id = ?`,
		lineUserID).Scan(&body); err != nil {
		t.Fatalf("read message: %v", err)
	}
	return body
}

// snapshot maps every file name in dir to the SHA-256 of its content.
func snapshot(t *testing.T, dir string) map[string][32]byte {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	m := map[string][32]byte{}
	for _, e := range entries {
		if e.IsDir() {
			m[e.Name()+"/"] = [32]byte{}
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		m[e.Name()] = sha256.Sum256(b)
	}
	return m
}

func assertSameFiles(t *testing.T, before, after map[string][32]byte) {
	t.Helper()
	for name, h := range before {
		if ah, ok := after[name]; !ok {
			t.Errorf("%s was removed", name)
		} else if ah != h {
			t.Errorf("%s was modified", name)
		}
	}
	for name := range after {
		if _, ok := before[name]; !ok {
			t.Errorf("%s was created", name)
		}
	}
}

func fileNames(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

// crashCopy copies the database files as they are on disk right now, as if
// the machine lost power: the main file, the WAL and the shared memory.
func crashCopy(t *testing.T, path string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), filepath.Base(path))
	for _, suffix := range []string{"", "-wal", "-shm"} {
		b, err := os.ReadFile(path + suffix)
		if errors.Is(err, os.ErrNotExist) && suffix != "" {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst+suffix, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := os.Stat(dst + "-wal"); err != nil {
		t.Fatalf("crash copy has no WAL: %v", err)
	}
	return dst
}

// createPlaintext creates an unencrypted SQLite database with the plain
// driver (default VFS), holding the customer data.
func createPlaintext(t *testing.T, path string, wal bool) {
	t.Helper()
	db, err := driver.Open("file:" + filepath.ToSlash(path))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	stmts := []string{`CREATE TABLE messages(body TEXT)`}
	if wal {
		stmts = append([]string{`PRAGMA journal_mode=WAL`}, stmts...)
	}
	for _, s := range stmts {
		if _, err := db.Exec(s); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.Exec(`INSERT INTO messages VALUES (?)`, customerName+messageBody+canary); err != nil {
		t.Fatal(err)
	}
}

func TestCreateAndReopen(t *testing.T) {
	ctx := context.Background()
	path, key, db := createDB(t)
	insertCustomer(t, db)
	if err := db.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if got := fileNames(t, filepath.Dir(path)); !slices.Equal(got, []string{"tsunagu.db"}) {
		t.Fatalf("after Close the folder holds %v, want only the database", got)
	}

	db, err := Open(ctx, path, key)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer db.Close()
	if got := readMessage(t, db.Reader()); got != customerName+"様 "+messageBody+" "+canary {
		t.Fatalf("message after reopen = %q", got)
	}
	v, err := db.SchemaVersion(ctx)
	if err != nil {
		t.Fatal(err)
	}
	migs, err := loadMigrations(migrationFiles)
	if err != nil {
		t.Fatal(err)
	}
	if v != len(migs) {
		t.Fatalf("schema version %d, want %d", v, len(migs))
	}
}

func TestNoPlaintextOnDisk(t *testing.T) {
	needles := []string{customerName, messageBody, canary, lineUserID}
	grep := func(t *testing.T, dir string) (found []string) {
		t.Helper()
		for _, name := range fileNames(t, dir) {
			b, err := os.ReadFile(filepath.Join(dir, name))
			if err != nil {
				t.Fatal(err)
			}
			for _, n := range needles {
				if bytes.Contains(b, []byte(n)) {
					found = append(found, name+": "+n)
				}
			}
		}
		return found
	}

	// Positive control: the same data in a plaintext database is found, so
	// the check below can fail.
	plainDir := t.TempDir()
	createPlaintext(t, filepath.Join(plainDir, "plain.db"), false)
	if found := grep(t, plainDir); len(found) == 0 {
		t.Fatal("grep does not find the data in a plaintext database")
	}

	path, _, db := createDB(t)
	dir := filepath.Dir(path)
	insertCustomer(t, db)

	// While open, before any checkpoint: the data is only in the WAL.
	wal, err := os.Stat(path + "-wal")
	if err != nil || wal.Size() == 0 {
		t.Fatalf("expected a non-empty WAL while open: %v", err)
	}
	if found := grep(t, dir); len(found) > 0 {
		t.Fatalf("plaintext on disk while open: %v", found)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if found := grep(t, dir); len(found) > 0 {
		t.Fatalf("plaintext on disk after close: %v", found)
	}
}

func TestHeaderIsNotPlaintext(t *testing.T) {
	path, _, db := createDB(t)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) < blockSize || len(b)%blockSize != 0 {
		t.Fatalf("file size %d is not a whole number of %d-byte blocks", len(b), blockSize)
	}
	if bytes.HasPrefix(b, []byte("SQLite format 3\x00")) {
		t.Fatal("encrypted database starts with the plaintext SQLite header")
	}
	if plain, err := LooksPlaintext(path); err != nil || plain {
		t.Fatalf("LooksPlaintext = %v, %v", plain, err)
	}
}

func TestOpenFailsClosed(t *testing.T) {
	ctx := context.Background()
	// closedDB makes an encrypted, closed database and returns its path
	// and key.
	closedDB := func(t *testing.T) (string, []byte) {
		path, key, db := createDB(t)
		insertCustomer(t, db)
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
		return path, key
	}

	for _, tc := range []struct {
		name  string
		setup func(t *testing.T) (path string, key []byte)
		want  error // nil: any error
	}{
		{
			name: "missing file",
			setup: func(t *testing.T) (string, []byte) {
				return filepath.Join(t.TempDir(), "tsunagu.db"), newKey(t)
			},
			want: ErrNotExist,
		},
		{
			name: "wrong key",
			setup: func(t *testing.T) (string, []byte) {
				path, _ := closedDB(t)
				return path, newKey(t)
			},
			want: ErrWrongKey,
		},
		{
			// SQLite would delete a WAL it cannot decrypt when it closes.
			name: "wrong key with the WAL of a crashed session",
			setup: func(t *testing.T) (string, []byte) {
				path, _, db := createDB(t)
				insertCustomer(t, db)
				return crashCopy(t, path), newKey(t)
			},
			want: ErrWrongKey,
		},
		{
			name: "plaintext database",
			setup: func(t *testing.T) (string, []byte) {
				path := filepath.Join(t.TempDir(), "tsunagu.db")
				createPlaintext(t, path, false)
				return path, newKey(t)
			},
			want: ErrPlaintext,
		},
		{
			name: "plaintext database with a WAL",
			setup: func(t *testing.T) (string, []byte) {
				path := filepath.Join(t.TempDir(), "tsunagu.db")
				createPlaintext(t, path, true)
				if err := os.WriteFile(path+"-wal", []byte("leftover"), 0o600); err != nil {
					t.Fatal(err)
				}
				return path, newKey(t)
			},
			want: ErrPlaintext,
		},
		{
			name: "empty file",
			setup: func(t *testing.T) (string, []byte) {
				path := filepath.Join(t.TempDir(), "tsunagu.db")
				if err := os.WriteFile(path, nil, 0o600); err != nil {
					t.Fatal(err)
				}
				return path, newKey(t)
			},
			want: ErrNotEncrypted,
		},
		{
			name: "truncated copy",
			setup: func(t *testing.T) (string, []byte) {
				path, key := closedDB(t)
				if err := os.Truncate(path, blockSize+100); err != nil {
					t.Fatal(err)
				}
				return path, key
			},
			want: ErrNotEncrypted,
		},
		{
			name: "random bytes",
			setup: func(t *testing.T) (string, []byte) {
				path := filepath.Join(t.TempDir(), "tsunagu.db")
				b := make([]byte, 3*blockSize)
				rand.Read(b)
				if err := os.WriteFile(path, b, 0o600); err != nil {
					t.Fatal(err)
				}
				return path, newKey(t)
			},
			want: ErrWrongKey,
		},
		{
			name: "newer schema",
			setup: func(t *testing.T) (string, []byte) {
				path, key, db := createDB(t)
				if _, err := db.Writer().Exec(`PRAGMA user_version=9999`); err != nil {
					t.Fatal(err)
				}
				if err := db.Close(); err != nil {
					t.Fatal(err)
				}
				return path, key
			},
			want: ErrTooNew,
		},
		{
			name: "directory",
			setup: func(t *testing.T) (string, []byte) {
				path := filepath.Join(t.TempDir(), "tsunagu.db")
				if err := os.Mkdir(path, 0o700); err != nil {
					t.Fatal(err)
				}
				return path, newKey(t)
			},
		},
		{
			name: "short key",
			setup: func(t *testing.T) (string, []byte) {
				path, key := closedDB(t)
				return path, key[:16]
			},
		},
		{
			name: "long key",
			setup: func(t *testing.T) (string, []byte) {
				path, key := closedDB(t)
				return path, append(key, 0)
			},
		},
		{
			name: "no key",
			setup: func(t *testing.T) (string, []byte) {
				path, _ := closedDB(t)
				return path, nil
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path, key := tc.setup(t)
			dir := filepath.Dir(path)
			before := snapshot(t, dir)

			db, err := Open(ctx, path, key)
			if err == nil {
				db.Close()
				t.Fatal("Open succeeded")
			}
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			for _, other := range []error{ErrNotExist, ErrExists, ErrPlaintext, ErrNotEncrypted, ErrWrongKey, ErrTooNew} {
				if other != tc.want && errors.Is(err, other) {
					t.Fatalf("err = %v, also matches %v", err, other)
				}
			}
			assertSameFiles(t, before, snapshot(t, dir))
		})
	}
}

func TestOpenRecoversCrashedSession(t *testing.T) {
	path, key, db := createDB(t)
	insertCustomer(t, db)
	crashed := crashCopy(t, path)

	// A wrong key first must not cost the WAL's transactions.
	if _, err := Open(context.Background(), crashed, newKey(t)); !errors.Is(err, ErrWrongKey) {
		t.Fatalf("wrong key: err = %v", err)
	}
	db2, err := Open(context.Background(), crashed, key)
	if err != nil {
		t.Fatalf("Open crashed copy: %v", err)
	}
	if got := readMessage(t, db2.Reader()); !strings.Contains(got, messageBody) {
		t.Fatalf("message lost: %q", got)
	}
	if err := db2.Close(); err != nil {
		t.Fatal(err)
	}
	if got := fileNames(t, filepath.Dir(crashed)); !slices.Equal(got, []string{"tsunagu.db"}) {
		t.Fatalf("after Close: %v", got)
	}
}

func TestOpenRefusesNewerSchemaStillInWAL(t *testing.T) {
	// A newer Tsunagu migrated and crashed before checkpointing: the main
	// file's header still has the old version.
	path, key, db := createDB(t)
	if _, err := db.Writer().Exec(`PRAGMA user_version=9999`); err != nil {
		t.Fatal(err)
	}
	crashed := crashCopy(t, path)
	if v, err := probe(context.Background(), crashed, key); err != nil || v == 9999 {
		t.Fatalf("test setup: main file already has the new version (%d, %v)", v, err)
	}

	if db2, err := Open(context.Background(), crashed, key); !errors.Is(err, ErrTooNew) {
		if err == nil {
			db2.Close()
		}
		t.Fatalf("err = %v, want ErrTooNew", err)
	}
}

func TestCreateRefusesExisting(t *testing.T) {
	for _, suffix := range []string{"", "-wal", "-shm", "-journal"} {
		t.Run("existing "+suffix, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "tsunagu.db")
			if err := os.WriteFile(path+suffix, []byte("precious"), 0o600); err != nil {
				t.Fatal(err)
			}
			before := snapshot(t, dir)
			db, err := Create(context.Background(), path, newKey(t))
			if err == nil {
				db.Close()
			}
			if !errors.Is(err, ErrExists) {
				t.Fatalf("err = %v, want ErrExists", err)
			}
			assertSameFiles(t, before, snapshot(t, dir))
		})
	}
	t.Run("existing database", func(t *testing.T) {
		path, key, db := createDB(t)
		insertCustomer(t, db)
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
		before := snapshot(t, filepath.Dir(path))
		if _, err := Create(context.Background(), path, key); !errors.Is(err, ErrExists) {
			t.Fatalf("err = %v, want ErrExists", err)
		}
		assertSameFiles(t, before, snapshot(t, filepath.Dir(path)))
	})
}

func TestCreateRejectsBadKeyWithoutCreating(t *testing.T) {
	for _, n := range []int{0, 16, 31, 33, 64} {
		dir := t.TempDir()
		db, err := Create(context.Background(), filepath.Join(dir, "tsunagu.db"), make([]byte, n))
		if err == nil {
			db.Close()
			t.Fatalf("%d-byte key accepted", n)
		}
		if names := fileNames(t, dir); len(names) != 0 {
			t.Fatalf("%d-byte key: files created: %v", n, names)
		}
	}
}

func TestCreateFilePermissions(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no Unix permissions")
	}
	path, _, db := createDB(t)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if perm := st.Mode().Perm(); perm != 0o600 {
		t.Fatalf("database file mode %o, want 600", perm)
	}
}

func TestPathsWithSpecialCharacters(t *testing.T) {
	// Windows user folders can hold Japanese names and spaces; '#', '?'
	// and '%' would be misread in a file: URI if not escaped.
	dir := filepath.Join(t.TempDir(), "支店 データ #1 ?&=;%20")
	if runtime.GOOS == "windows" {
		dir = filepath.Join(t.TempDir(), "支店 データ #1 &=;%20")
	}
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "tsunagu.db")
	key := newKey(t)
	db, err := Create(context.Background(), path, key)
	if err != nil {
		t.Fatal(err)
	}
	insertCustomer(t, db)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if got := fileNames(t, dir); !slices.Equal(got, []string{"tsunagu.db"}) {
		t.Fatalf("folder holds %v", got)
	}
	if got := fileNames(t, filepath.Dir(dir)); len(got) != 1 {
		t.Fatalf("files created outside the folder: %v", got)
	}
	db, err = Open(context.Background(), path, key)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	readMessage(t, db.Reader())
}

func TestConnectionSettings(t *testing.T) {
	ctx := context.Background()
	_, _, db := createDB(t)

	pragma := func(t *testing.T, q *sql.DB, name string) string {
		t.Helper()
		var v string
		if err := q.QueryRowContext(ctx, "PRAGMA "+name).Scan(&v); err != nil {
			t.Fatalf("PRAGMA %s: %v", name, err)
		}
		return v
	}
	for _, tc := range []struct {
		db         *sql.DB
		conn, name string
		want       string
	}{
		{db.Writer(), "writer", "journal_mode", "wal"},
		{db.Writer(), "writer", "synchronous", "2"}, // FULL
		{db.Writer(), "writer", "foreign_keys", "1"},
		{db.Writer(), "writer", "temp_store", "2"}, // MEMORY
		{db.Writer(), "writer", "busy_timeout", "5000"},
		{db.Writer(), "writer", "secure_delete", "1"},
		{db.Writer(), "writer", "query_only", "0"},
		{db.Writer(), "writer", "cache_size", "-65536"}, // 64 MiB
		{db.Reader(), "reader", "journal_mode", "wal"},
		{db.Reader(), "reader", "foreign_keys", "1"},
		{db.Reader(), "reader", "query_only", "1"},
		{db.Reader(), "reader", "busy_timeout", "5000"},
	} {
		if got := pragma(t, tc.db, tc.name); got != tc.want {
			t.Errorf("%s: PRAGMA %s = %s, want %s", tc.conn, tc.name, got, tc.want)
		}
	}
	if n := db.Writer().Stats().MaxOpenConnections; n != 1 {
		t.Errorf("writer allows %d connections, want 1", n)
	}
	if n := db.Reader().Stats().MaxOpenConnections; n < 2 {
		t.Errorf("reader allows %d connections, want several", n)
	}

	if _, err := db.Reader().ExecContext(ctx, `INSERT INTO line_users(user_id, created_at) VALUES ('U1', 1)`); err == nil {
		t.Error("reader accepted a write")
	}
	err := db.Write(ctx, func(tx *sql.Tx) error {
		_, err := tx.Exec(`INSERT INTO conversations(line_user_id, created_at) VALUES ('Unobody', 1)`)
		return err
	})
	if err == nil {
		t.Error("foreign key to a missing LINE user accepted")
	}
}

func TestKeyIsNotInTheURI(t *testing.T) {
	_, _, db := createDB(t)
	for name, pool := range map[string]*sql.DB{"writer": db.Writer(), "reader": db.Reader()} {
		conn, err := pool.Conn(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		err = conn.Raw(func(dc any) error {
			params := dc.(driver.Conn).Raw().Filename("main").URIParameters()
			if params.Get("vfs") != blockvfs.Name {
				t.Errorf("%s: vfs = %q, want %s", name, params.Get("vfs"), blockvfs.Name)
			}
			for _, p := range []string{"key", "hexkey", "textkey"} {
				if params.Has(p) {
					t.Errorf("%s: key material in URI parameter %q", name, p)
				}
			}
			return nil
		})
		conn.Close()
		if err != nil {
			t.Fatal(err)
		}
	}
}

func TestFTS5TrigramJapanese(t *testing.T) {
	ctx := context.Background()
	path, key, db := createDB(t)
	err := db.Write(ctx, func(tx *sql.Tx) error {
		if _, err := tx.Exec(`CREATE VIRTUAL TABLE message_search USING fts5(body, tokenize='trigram')`); err != nil {
			return err
		}
		for _, body := range []string{"口座振替のご案内", "定期預金の満期について", "Hello"} {
			if _, err := tx.Exec(`INSERT INTO message_search(body) VALUES (?)`, body); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("create FTS5 trigram table: %v", err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	// Reopen: FTS5 must be registered on every new connection, readers too.
	db, err = Open(ctx, path, key)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()

	for _, tc := range []struct {
		query, arg string
		want       []string
	}{
		{`body MATCH ?`, "口座振替", []string{"口座振替のご案内"}},
		{`body MATCH ?`, "満期", nil},                         // trigram: MATCH needs 3+ characters ...
		{`body LIKE ?`, "%口座%", []string{"口座振替のご案内"}},       // ... LIKE finds 2-character words
		{`body LIKE ?`, "%預金の満期%", []string{"定期預金の満期について"}}, // and uses the index for 3+
		{`body MATCH ?`, "hello", []string{"Hello"}},
	} {
		rows, err := db.Reader().QueryContext(ctx, `SELECT body FROM message_search WHERE `+tc.query+` ORDER BY rowid`, tc.arg)
		if err != nil {
			t.Fatalf("%s %q: %v", tc.query, tc.arg, err)
		}
		var got []string
		for rows.Next() {
			var s string
			if err := rows.Scan(&s); err != nil {
				t.Fatal(err)
			}
			got = append(got, s)
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		rows.Close()
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s %q = %q, want %q", tc.query, tc.arg, got, tc.want)
		}
	}
}

func TestWrite(t *testing.T) {
	ctx := context.Background()
	_, _, db := createDB(t)
	count := func() int {
		var n int
		if err := db.Reader().QueryRowContext(ctx, `SELECT count(*) FROM line_users`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	insert := func(tx *sql.Tx) error {
		_, err := tx.Exec(`INSERT INTO line_users(user_id, created_at) VALUES (?, 1)`, lineUserID)
		return err
	}

	errFn := errors.New("fn failed")
	err := db.Write(ctx, func(tx *sql.Tx) error {
		if err := insert(tx); err != nil {
			return err
		}
		return errFn
	})
	if !errors.Is(err, errFn) {
		t.Fatalf("Write returned %v, want fn's error", err)
	}
	if n := count(); n != 0 {
		t.Fatalf("error did not roll back: %d rows", n)
	}

	func() {
		defer func() {
			if r := recover(); r != "boom" {
				t.Fatalf("panic not propagated: %v", r)
			}
		}()
		db.Write(ctx, func(tx *sql.Tx) error {
			if err := insert(tx); err != nil {
				return err
			}
			panic("boom")
		})
	}()
	if n := count(); n != 0 {
		t.Fatalf("panic did not roll back: %d rows", n)
	}

	// The writer is usable again after both.
	if err := db.Write(ctx, insert); err != nil {
		t.Fatal(err)
	}
	if n := count(); n != 1 {
		t.Fatalf("commit: %d rows, want 1", n)
	}

	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if err := db.Write(cancelled, insert); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled ctx: err = %v", err)
	}
}

func TestMigrationsIdempotent(t *testing.T) {
	ctx := context.Background()
	path, key, db := createDB(t)
	insertCustomer(t, db)
	schema := func(db *DB) string {
		var s string
		if err := db.Reader().QueryRowContext(ctx, `SELECT group_concat(sql, ';') FROM (SELECT sql FROM sqlite_master ORDER BY name)`).Scan(&s); err != nil {
			t.Fatal(err)
		}
		return s
	}
	want := schema(db)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		db, err := Open(ctx, path, key)
		if err != nil {
			t.Fatalf("reopen %d: %v", i, err)
		}
		if got := schema(db); got != want {
			t.Fatalf("reopen %d changed the schema", i)
		}
		var n int
		if err := db.Reader().QueryRowContext(ctx, `SELECT count(*) FROM messages`).Scan(&n); err != nil || n != 1 {
			t.Fatalf("reopen %d: %d messages, %v", i, n, err)
		}
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

func TestEmbeddedMigrations(t *testing.T) {
	migs, err := loadMigrations(migrationFiles)
	if err != nil {
		t.Fatal(err)
	}
	if migs[0].name != "0001_inbox.sql" {
		t.Fatalf("first migration is %s", migs[0].name)
	}
	onDisk, err := os.ReadFile(filepath.Join("migrations", "0001_inbox.sql"))
	if err != nil {
		t.Fatal(err)
	}
	if migs[0].sql != string(onDisk) {
		t.Fatal("embedded 0001_inbox.sql differs from the file")
	}
}

func TestMigrationFailureAppliesNothing(t *testing.T) {
	ctx := context.Background()
	_, _, db := createDB(t)
	before, err := db.SchemaVersion(ctx)
	if err != nil {
		t.Fatal(err)
	}
	migs, err := loadMigrations(migrationFiles)
	if err != nil {
		t.Fatal(err)
	}
	migs = append(migs,
		migration{version: len(migs) + 1, name: "good.sql", sql: `CREATE TABLE added_by_good(x);`},
		migration{version: len(migs) + 2, name: "bad.sql", sql: `CREATE TABLE t2(x); SELECT * FROM no_such_table;`},
	)
	if err := migrate(ctx, db.Writer(), migs); err == nil || !strings.Contains(err.Error(), "bad.sql") {
		t.Fatalf("migrate = %v, want an error naming bad.sql", err)
	}
	if v, _ := db.SchemaVersion(ctx); v != before {
		t.Fatalf("version %d after a failed migration, want %d", v, before)
	}
	var n int
	if err := db.Reader().QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE name IN ('added_by_good', 't2')`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("partial migration left %d tables (%v)", n, err)
	}
}

func TestLooksPlaintext(t *testing.T) {
	dir := t.TempDir()
	plain := filepath.Join(dir, "plain.db")
	createPlaintext(t, plain, false)
	encPath, _, db := createDB(t)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	for _, tc := range []struct {
		name, path string
		want       bool
		wantErr    error
	}{
		{"plaintext database", plain, true, nil},
		{"encrypted database", encPath, false, nil},
		{"header only", write("header", []byte("SQLite format 3\x00")), true, nil},
		{"shorter than the header", write("short", []byte("SQLite format")), false, nil},
		{"empty", write("empty", nil), false, nil},
		{"missing", filepath.Join(dir, "missing"), false, ErrNotExist},
	} {
		got, err := LooksPlaintext(tc.path)
		if tc.wantErr != nil {
			if !errors.Is(err, tc.wantErr) {
				t.Errorf("%s: err = %v, want %v", tc.name, err, tc.wantErr)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%s: LooksPlaintext = %v, %v; want %v", tc.name, got, err, tc.want)
		}
	}
}

func TestCloseTwice(t *testing.T) {
	_, _, db := createDB(t)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}

func TestCloseCheckpointsWhileOthersHaveItOpen(t *testing.T) {
	// E.g. tsunagu-cli still has the database open when the app quits:
	// SQLite only deletes the WAL when the last connection closes, so Close
	// must move everything into the main file itself.
	path, key, db := createDB(t)
	insertCustomer(t, db)
	other, err := Open(context.Background(), path, key)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if st, err := os.Stat(path + "-wal"); err != nil || st.Size() == 0 {
		t.Fatalf("test setup: expected a non-empty WAL (%v)", err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(path + "-wal"); err == nil && st.Size() != 0 {
		t.Fatalf("WAL still holds %d bytes after Close", st.Size())
	}
	if got := readMessage(t, other.Reader()); !strings.Contains(got, messageBody) {
		t.Fatalf("message = %q", got)
	}
}

func TestReadersDoNotBlockTheWriter(t *testing.T) {
	ctx := context.Background()
	_, _, db := createDB(t)
	insertCustomer(t, db)

	const writes = 40
	errc := make(chan error, 5)
	stop := make(chan struct{})
	for range 4 {
		go func() {
			for {
				select {
				case <-stop:
					errc <- nil
					return
				default:
				}
				var n int
				if err := db.Reader().QueryRowContext(ctx, `SELECT count(*) FROM webhook_events`).Scan(&n); err != nil {
					errc <- err
					return
				}
			}
		}()
	}
	for i := range writes {
		err := db.Write(ctx, func(tx *sql.Tx) error {
			_, err := tx.Exec(`INSERT INTO webhook_events(webhook_event_id, type, occurred_at, received_at) VALUES (?, 'message', 1, 1)`,
				"ev-"+strings.Repeat("x", i))
			return err
		})
		if err != nil {
			t.Fatalf("write %d: %v", i, err)
		}
	}
	close(stop)
	for range 4 {
		if err := <-errc; err != nil {
			t.Fatalf("reader: %v", err)
		}
	}
	var n int
	if err := db.Reader().QueryRowContext(ctx, `SELECT count(*) FROM webhook_events`).Scan(&n); err != nil || n != writes {
		t.Fatalf("readers see %d events (%v), want %d", n, err, writes)
	}
}
