// Package store owns Tsunagu's encrypted SQLite database: opening it, the
// schema migrations and the encryption at rest. It knows nothing of LINE,
// staff or screens.
//
// The database is encrypted with the "adiantum" VFS of
// github.com/ncruces/go-sqlite3, through package blockvfs (which writes the
// WAL in whole cipher blocks): the main file, its WAL and SQLite's
// temporary files are all encrypted with a 256-bit key that lives in the OS
// keychain (see package secrets). See docs/decisions.md for what this does
// and does not protect against.
//
// Opening fails closed: a missing, plaintext, unreadable or newer database is
// refused before SQLite may write anything, and the files are left as they
// were.
package store

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/ncruces/go-sqlite3"
	"github.com/ncruces/go-sqlite3/ext/fts5"

	"tsunagu/internal/store/blockvfs"
	"tsunagu/internal/textfold"
)

// Errors a clerk or administrator may see (the UI translates them). They are
// returned wrapped with the operation and path; test with errors.Is.
var (
	// ErrNotExist: there is no database file at the path.
	ErrNotExist = errors.New("the database file does not exist")
	// ErrExists: Create found a database file (or its WAL) already there.
	ErrExists = errors.New("a database file already exists here")
	// ErrPlaintext: the file is an unencrypted SQLite database. Tsunagu
	// never opens one: customer data must not be kept unencrypted.
	ErrPlaintext = errors.New("the database file is not encrypted")
	// ErrNotEncrypted: the file is neither a plaintext nor an encrypted
	// database: it is empty or its size is not a whole number of encrypted
	// blocks (e.g. an interrupted copy).
	ErrNotEncrypted = errors.New("the file is not an encrypted database (empty or truncated)")
	// ErrWrongKey: the key does not decrypt the file. Either the keychain
	// holds another install's key, or the file is not a Tsunagu database.
	ErrWrongKey = errors.New("the database key does not open this database file")
	// ErrTooNew: the database was last written by a newer Tsunagu.
	ErrTooNew = errors.New("the database was created by a newer version of Tsunagu")
)

// KeySize is the length of a database key: 256 bits.
const KeySize = 32

// The adiantum VFS encrypts in 4 KiB blocks; SQLite's default page size
// matches it and must not be changed.
const blockSize = 4096

// readers is the size of the read-only pool. Reads never block the writer in
// WAL mode; a few connections let the UI list conversations while the engine
// queries.
const readers = 4

// busyTimeoutMillis bounds how long a statement waits for another process
// (e.g. tsunagu-cli) holding the write lock.
const busyTimeoutMillis = 5000

var sqliteHeader = []byte("SQLite format 3\x00")

// DB is an open encrypted database.
type DB struct {
	writer *sql.DB
	reader *sql.DB

	closeOnce sync.Once
	closeErr  error
}

// Create creates a new encrypted database at path with key (KeySize random
// bytes) and applies the migrations. It returns an error wrapping ErrExists
// if the file, or a WAL, journal or shared-memory file of it, already exists;
// it never opens or changes an existing file.
func Create(ctx context.Context, path string, key []byte) (*DB, error) {
	path, err := prepare(path, key)
	if err != nil {
		return nil, fmt.Errorf("create database: %w", err)
	}
	for _, p := range sidecars(path) {
		if _, err := os.Lstat(p); err == nil {
			return nil, fmt.Errorf("create database %s: %w", p, ErrExists)
		} else if !errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("create database: %w", err)
		}
	}
	// O_EXCL makes "does not exist yet" atomic, and 0600 keeps the file
	// private even where the data folder's permissions are loose. SQLite
	// then opens it read-write without the right to create (mode=rw).
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) {
		return nil, fmt.Errorf("create database %s: %w", path, ErrExists)
	}
	if err != nil {
		return nil, fmt.Errorf("create database: %w", err)
	}
	if err := f.Close(); err != nil {
		os.Remove(path)
		return nil, fmt.Errorf("create database: %w", err)
	}

	db, err := open(ctx, path, key)
	if err != nil {
		// Everything at these paths is ours: none of them existed above.
		for _, p := range sidecars(path) {
			os.Remove(p)
		}
		return nil, fmt.Errorf("create database %s: %w", path, err)
	}
	return db, nil
}

// Open opens the existing encrypted database at path and applies any new
// migrations. It fails closed, leaving the file and any -wal/-shm
// byte-identical and creating nothing, with an error wrapping:
//   - ErrNotExist if there is no file;
//   - ErrPlaintext if it is an unencrypted SQLite database;
//   - ErrNotEncrypted if it is empty or truncated;
//   - ErrWrongKey if key does not decrypt it;
//   - ErrTooNew if a newer Tsunagu has migrated it.
//
// One case cannot be seen without SQLite opening the database normally: a
// newer version's migration still only in the WAL of a crashed session.
// Open still refuses it with ErrTooNew, but by then SQLite has recovered the
// WAL and checkpoints it at close (the data is kept, the bytes change).
func Open(ctx context.Context, path string, key []byte) (*DB, error) {
	path, err := prepare(path, key)
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	if err := checkFile(path); err != nil {
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	// Check the key and version without SQLite touching the WAL: opened
	// normally with a wrong key, SQLite would treat an existing WAL as
	// garbage and delete it on close, destroying the last transactions.
	version, err := probe(ctx, path, key)
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	migs, err := loadMigrations(migrationFiles)
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	if version > len(migs) {
		return nil, fmt.Errorf("open database %s: %w (schema version %d, this version knows %d)", path, ErrTooNew, version, len(migs))
	}
	db, err := open(ctx, path, key)
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	return db, nil
}

// Close checkpoints the WAL into the main file and closes the database, so a
// closed database is a single file. It is safe to call more than once.
func (db *DB) Close() error {
	db.closeOnce.Do(func() {
		var errs []error
		if err := db.reader.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close readers: %w", err))
		}
		if _, err := db.writer.Exec(`PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
			errs = append(errs, fmt.Errorf("checkpoint: %w", err))
		}
		// The writer is the last connection: closing it also deletes
		// the (now empty) -wal and -shm files.
		if err := db.writer.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close writer: %w", err))
		}
		db.closeErr = errors.Join(errs...)
	})
	return db.closeErr
}

// Writer is the database's only read-write connection (SetMaxOpenConns(1)):
// SQLite allows one writer at a time, and queueing in database/sql is
// cheaper and fairer than SQLITE_BUSY retries. Do not use it from inside
// Write's fn: that would wait for itself.
func (db *DB) Writer() *sql.DB { return db.writer }

// Reader is a pool of read-only connections (opened read-only and with
// PRAGMA query_only), for queries that must not wait for writes.
func (db *DB) Reader() *sql.DB { return db.reader }

// Write runs fn in one transaction on the writer (BEGIN IMMEDIATE), commits
// if fn returns nil and rolls back if it returns an error or panics.
func (db *DB) Write(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := db.writer.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin transaction: %w", err)
	}
	done := false
	defer func() {
		if !done {
			tx.Rollback() // also on panic; the panic continues
		}
	}()
	if err := fn(tx); err != nil {
		return err
	}
	done = true
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// SchemaVersion returns the number of migrations applied to the database.
func (db *DB) SchemaVersion(ctx context.Context) (int, error) {
	var v int
	if err := db.reader.QueryRowContext(ctx, `PRAGMA user_version`).Scan(&v); err != nil {
		return 0, fmt.Errorf("read schema version: %w", err)
	}
	return v, nil
}

// LooksPlaintext reports whether the file starts with the plaintext SQLite
// header, i.e. is an unencrypted database. A file shorter than the header
// does not.
func LooksPlaintext(path string) (bool, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return false, fmt.Errorf("%w: %s", ErrNotExist, path)
	}
	if err != nil {
		return false, err
	}
	defer f.Close()
	head := make([]byte, len(sqliteHeader))
	if _, err := io.ReadFull(f, head); errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return false, nil
	} else if err != nil {
		return false, fmt.Errorf("read %s: %w", path, err)
	}
	return bytes.Equal(head, sqliteHeader), nil
}

// open opens an existing (possibly empty, when called from Create) database
// file whose key is known or, for a new file, irrelevant: it sets up the
// writer, switches to WAL, migrates and opens the readers.
func open(ctx context.Context, path string, key []byte) (_ *DB, err error) {
	migs, err := loadMigrations(migrationFiles)
	if err != nil {
		return nil, err
	}
	hexKey := hex.EncodeToString(key)
	// SQLite's shared-memory file (the WAL index) is created 0644 by the
	// OS VFS, outside the VFS's Open (blockvfs covers the WAL): create it
	// private first. SQLite uses an existing, empty one as a new index.
	blockvfs.CreatePrivate(path + "-shm")

	writer, err := openPool(fileURI(path, "rw", false), initConn(hexKey, false), false)
	if err != nil {
		return nil, err
	}
	writer.SetMaxOpenConns(1)
	// Keep the one connection for the life of the DB: closed as idle, it
	// would make SQLite checkpoint and drop the WAL, and every reopen
	// repeats the key check.
	writer.SetMaxIdleConns(1)
	writer.SetConnMaxLifetime(0)
	writer.SetConnMaxIdleTime(0)
	defer func() {
		if err != nil {
			writer.Close()
		}
	}()

	// The connection's init has verified the key and switched to WAL.
	if err := migrate(ctx, writer, migs); err != nil {
		return nil, err
	}

	reader, err := openPool(fileURI(path, "ro", false), initConn(hexKey, true), true)
	if err != nil {
		return nil, err
	}
	reader.SetMaxOpenConns(readers)
	reader.SetMaxIdleConns(readers)
	if err := reader.PingContext(ctx); err != nil {
		reader.Close()
		return nil, fmt.Errorf("open readers: %w", mapOpenErr(err))
	}
	return &DB{writer: writer, reader: reader}, nil
}

// foldFunc is tsunagu_fold(text): NULL stays NULL, anything else is
// folded as text.
func foldFunc(ctx sqlite3.Context, arg ...sqlite3.Value) {
	if arg[0].Type() == sqlite3.NULL {
		ctx.ResultNull()
		return
	}
	ctx.ResultText(textfold.Fold(arg[0].Text()))
}

// initConn returns the driver hook run first on every new connection.
//
// The key is given as a PRAGMA, not a URI parameter: URI parameters are
// visible to anything that can see the connection's filename.
func initConn(hexKey string, readOnly bool) func(*sqlite3.Conn) error {
	return func(c *sqlite3.Conn) error {
		if err := c.Exec(`PRAGMA hexkey='` + hexKey + `'`); err != nil {
			return fmt.Errorf("set database key: %w", err)
		}
		if err := c.Exec(fmt.Sprintf(`PRAGMA busy_timeout=%d`, busyTimeoutMillis)); err != nil {
			return err
		}
		// Registered before the first read so the schema may hold FTS5
		// tables (a later migration adds them for Japanese search).
		if err := fts5.Register(c); err != nil {
			return fmt.Errorf("register fts5: %w", err)
		}
		// The search key (textfold.Fold) inside SQL, before the first read:
		// the inbox's message index is built with it (migration 0019), and
		// a search folds a column with the same code that folds the query.
		if err := c.CreateFunction(textfold.SQLFunc, 1, sqlite3.DETERMINISTIC|sqlite3.INNOCUOUS, foldFunc); err != nil {
			return fmt.Errorf("register %s: %w", textfold.SQLFunc, err)
		}
		// Read before anything can write: a wrong key fails here with
		// SQLITE_NOTADB.
		if err := c.Exec(`SELECT count(*) FROM sqlite_master`); err != nil {
			return mapOpenErr(err)
		}
		// The query planner's stability guarantee: a plan does not depend
		// on bound values. Without it SQLite marks a statement with a bound
		// LIMIT (every page of the inbox) to be parsed and planned again on
		// each run, and a cached statement saves nothing.
		if _, err := c.Config(sqlite3.DBCONFIG_ENABLE_QPSG, true); err != nil {
			return fmt.Errorf("query planner stability: %w", err)
		}
		pragmas := []string{
			`PRAGMA foreign_keys=ON`,
			// Sorts and temp tables stay in memory (they would be
			// encrypted on disk too, but need not touch it).
			`PRAGMA temp_store=MEMORY`,
			// FULL: every commit is fsynced to the WAL. Writes are few
			// (one branch's chats), and a message or send record that was
			// acknowledged must survive a power cut; NORMAL could lose the
			// last commits.
			`PRAGMA synchronous=FULL`,
			// Overwrite deleted content, so data removed on a customer's
			// request does not linger in free pages.
			`PRAGMA secure_delete=ON`,
		}
		if readOnly {
			pragmas = append(pragmas, `PRAGMA query_only=ON`)
		}
		for _, p := range pragmas {
			if err := c.Exec(p); err != nil {
				return fmt.Errorf("%s: %w", p, err)
			}
		}
		if readOnly {
			return nil
		}
		// The writer's page cache: 64 MiB (SQLite's default is 2 MiB).
		// Every page it misses is read and decrypted again, and a batch
		// of writes keyed by people (clicks, webhooks of many friends)
		// touches indexes far larger than 2 MiB at random: storing
		// 100,000 queued clicks spent a third of its time re-reading
		// pages. The cache fills only as pages are used.
		if err := c.Exec(`PRAGMA cache_size=-65536`); err != nil {
			return fmt.Errorf("writer cache size: %w", err)
		}
		if err := c.Exec(`PRAGMA wal_autocheckpoint=8000`); err != nil {
			return fmt.Errorf("writer checkpoint interval: %w", err)
		}
		// The writer switches a new database to WAL (the key was checked
		// above: only then may anything write) and writes the WAL in whole
		// cipher blocks.
		if err := enableWAL(c); err != nil {
			return err
		}
		if err := blockvfs.Install(c); err != nil {
			return err
		}
		return nil
	}
}

// probe reads the schema version from the main file's header through the
// adiantum VFS with the file opened read-only and immutable: SQLite then
// takes no locks and never opens or creates the -wal or -shm, so nothing can
// be written whatever the key. A wrong key yields ErrWrongKey.
//
// The version read is the last checkpointed one; a newer one still in the
// WAL is caught by migrate.
func probe(ctx context.Context, path string, key []byte) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	c, err := sqlite3.OpenFlags(fileURI(path, "ro", true), sqlite3.OPEN_READONLY|sqlite3.OPEN_URI)
	if err != nil {
		return 0, mapOpenErr(err)
	}
	defer c.Close()
	if err := c.Exec(`PRAGMA hexkey='` + hex.EncodeToString(key) + `'`); err != nil {
		return 0, fmt.Errorf("set database key: %w", err)
	}
	stmt, _, err := c.Prepare(`PRAGMA user_version`)
	if err != nil {
		return 0, mapOpenErr(err)
	}
	defer stmt.Close()
	if !stmt.Step() {
		if err := stmt.Err(); err != nil {
			return 0, mapOpenErr(err)
		}
		return 0, errors.New("read schema version: no result")
	}
	return stmt.ColumnInt(0), nil
}

// checkFile classifies path without opening it in SQLite.
func checkFile(path string) error {
	st, err := os.Stat(path)
	if errors.Is(err, os.ErrNotExist) {
		return ErrNotExist
	}
	if err != nil {
		return err
	}
	if !st.Mode().IsRegular() {
		return errors.New("not a regular file")
	}
	plain, err := LooksPlaintext(path)
	if err != nil {
		return err
	}
	if plain {
		return ErrPlaintext
	}
	if st.Size() == 0 || st.Size()%blockSize != 0 {
		return ErrNotEncrypted
	}
	return nil
}

// mapOpenErr turns SQLite's "not a database" (what a wrong key looks like)
// into ErrWrongKey.
func mapOpenErr(err error) error {
	if errors.Is(err, sqlite3.NOTADB) {
		return ErrWrongKey
	}
	return err
}

// prepare validates the key and makes path absolute, so the URI and the
// files checked are the same.
func prepare(path string, key []byte) (string, error) {
	if len(key) != KeySize {
		return "", fmt.Errorf("database key must be %d bytes, got %d", KeySize, len(key))
	}
	if path == "" {
		return "", errors.New("database path is empty")
	}
	return filepath.Abs(path)
}

// sidecars are the files SQLite may keep next to a database.
func sidecars(path string) []string {
	return []string{path, path + "-wal", path + "-shm", path + "-journal"}
}

// enableWAL switches c's database to WAL mode, or says what mode it stayed in.
func enableWAL(c *sqlite3.Conn) error {
	stmt, _, err := c.Prepare(`PRAGMA journal_mode=WAL`)
	if err != nil {
		return fmt.Errorf("enable WAL: %w", mapOpenErr(err))
	}
	defer stmt.Close()
	if !stmt.Step() {
		return fmt.Errorf("enable WAL: %w", mapOpenErr(errors.Join(stmt.Err(), errors.New("no journal mode"))))
	}
	if mode := stmt.ColumnText(0); mode != "wal" {
		return fmt.Errorf("enable WAL: journal mode is %q", mode)
	}
	return nil
}

// fileURI builds a file: URI for the store's VFS (adiantum, see blockvfs). mode is "ro" or "rw":
// never "rwc", so SQLite cannot create a database that is not there.
// immutable opens the file without locks, WAL or shared memory.
func fileURI(path, mode string, immutable bool) string {
	segs := strings.Split(filepath.ToSlash(path), "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	q := url.Values{"vfs": {blockvfs.Name}, "mode": {mode}}
	if immutable {
		q.Set("immutable", "1")
	}
	return "file:" + strings.Join(segs, "/") + "?" + q.Encode()
}

// IsTransient reports whether err is the database's or the caller's trouble
// rather than the data's: a cancelled context, a busy or locked database, a
// full disk, an I/O error, corruption. Work that failed this way must be
// retried as a whole later, never set aside as bad input.
func IsTransient(err error) bool {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	for _, code := range []sqlite3.ErrorCode{sqlite3.BUSY, sqlite3.LOCKED, sqlite3.NOMEM, sqlite3.READONLY,
		sqlite3.INTERRUPT, sqlite3.IOERR, sqlite3.CORRUPT, sqlite3.FULL, sqlite3.CANTOPEN, sqlite3.PROTOCOL,
		sqlite3.NOTADB, sqlite3.ABORT} {
		if errors.Is(err, code) {
			return true
		}
	}
	return false
}

// IsUnique reports whether err is a UNIQUE (or PRIMARY KEY) constraint
// failure: the typed way for a feature to say "that name is taken",
// never by matching error text.
func IsUnique(err error) bool {
	return errors.Is(err, sqlite3.CONSTRAINT_UNIQUE) || errors.Is(err, sqlite3.CONSTRAINT_PRIMARYKEY)
}
