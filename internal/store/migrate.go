package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"regexp"
	"strconv"
	"strings"
)

// migrationFiles holds the schema migrations, named NNNN_name.sql and
// numbered from 0001 without gaps. Applied migrations are never edited:
// a schema change is a new file.
//
//go:embed migrations/*.sql
var migrationFiles embed.FS

type migration struct {
	version int
	name    string // file name, for errors
	sql     string
}

var migrationName = regexp.MustCompile(`^([0-9]{4})_[a-z0-9_]+\.sql$`)

// loadMigrations reads migrations/*.sql from fsys in version order and
// checks that they are numbered 1..n without gaps or duplicates.
func loadMigrations(fsys fs.FS) ([]migration, error) {
	entries, err := fs.ReadDir(fsys, "migrations")
	if err != nil {
		return nil, fmt.Errorf("read migrations: %w", err)
	}
	var migs []migration
	for _, e := range entries { // sorted by name, so by number
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".sql") {
			continue
		}
		m := migrationName.FindStringSubmatch(e.Name())
		if m == nil {
			return nil, fmt.Errorf("migration %s: name is not NNNN_name.sql", e.Name())
		}
		v, _ := strconv.Atoi(m[1])
		if want := len(migs) + 1; v != want {
			return nil, fmt.Errorf("migration %s: expected number %04d", e.Name(), want)
		}
		b, err := fs.ReadFile(fsys, "migrations/"+e.Name())
		if err != nil {
			return nil, fmt.Errorf("read migration %s: %w", e.Name(), err)
		}
		if strings.TrimSpace(string(b)) == "" {
			return nil, fmt.Errorf("migration %s is empty", e.Name())
		}
		migs = append(migs, migration{version: v, name: e.Name(), sql: string(b)})
	}
	if len(migs) == 0 {
		return nil, errors.New("no migrations found")
	}
	return migs, nil
}

// migrate applies the migrations the database lacks, all in one transaction,
// and records the new version in PRAGMA user_version (which is part of that
// transaction). A database whose version is beyond the known migrations is
// left untouched with ErrTooNew.
func migrate(ctx context.Context, w *sql.DB, migs []migration) (err error) {
	// BEGIN IMMEDIATE (the driver's default for a read-write connection):
	// another process migrating at the same time waits instead of both
	// reading the same old version.
	tx, err := w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("migrate: begin: %w", mapOpenErr(err))
	}
	defer func() {
		if err != nil {
			tx.Rollback()
		}
	}()

	var version int
	if err := tx.QueryRowContext(ctx, `PRAGMA user_version`).Scan(&version); err != nil {
		return fmt.Errorf("migrate: read version: %w", mapOpenErr(err))
	}
	switch {
	case version > len(migs):
		return fmt.Errorf("%w (schema version %d, this version knows %d)", ErrTooNew, version, len(migs))
	case version == len(migs):
		return tx.Commit()
	case version < 0:
		return fmt.Errorf("migrate: invalid schema version %d", version)
	}

	for _, m := range migs[version:] {
		if _, err := tx.ExecContext(ctx, m.sql); err != nil {
			return fmt.Errorf("migration %s: %w", m.name, err)
		}
	}
	// foreign_keys cannot be switched off inside a transaction, so a
	// migration that rebuilds a table uses PRAGMA defer_foreign_keys; this
	// check catches one that forgot to fix up the references.
	rows, err := tx.QueryContext(ctx, `PRAGMA foreign_key_check`)
	if err != nil {
		return fmt.Errorf("migrate: foreign key check: %w", err)
	}
	violation := rows.Next()
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return fmt.Errorf("migrate: foreign key check: %w", err)
	}
	if violation {
		return errors.New("migrate: migrations left foreign key violations")
	}
	if _, err := tx.ExecContext(ctx, fmt.Sprintf(`PRAGMA user_version=%d`, len(migs))); err != nil {
		return fmt.Errorf("migrate: set version: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("migrate: commit: %w", err)
	}
	return nil
}
