package audit

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// Writer runs fn in a write transaction (store.DB does).
type Writer interface {
	Write(ctx context.Context, fn func(tx *sql.Tx) error) error
}

// ErrNotRecorded: a change made outside the database was made, but its
// audit entry could not be written.
var ErrNotRecorded = errors.New("audit: the change was made but could not be recorded")

// RecordChange records a change that no database transaction can hold
// (keychain items, files, the relay, LINE's settings) in its own
// transaction, right after the change. It is the one rule for such changes
// in every program: if the entry cannot be written the change stands and the
// error wraps ErrNotRecorded, so no program reports an unaudited change as
// done.
func RecordChange(ctx context.Context, w Writer, e Entry) error {
	err := w.Write(ctx, func(tx *sql.Tx) error {
		_, err := Record(ctx, tx, e)
		return err
	})
	if err != nil {
		return fmt.Errorf("%s: %w: %w", e.Action, ErrNotRecorded, err)
	}
	return nil
}
