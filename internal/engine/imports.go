package engine

import (
	"context"
	"time"

	"tsunagu/internal/export"
	"tsunagu/internal/importer"
	"tsunagu/internal/linelog"
)

// Imports is the data folder's import runner: one import at a time across
// every window and seat, cancellable from any of them.
func (e *Engine) Imports() *importer.Runner { return e.feat.imports }

// ExportCustomers writes every customer to path as CSV in encoding
// (utf-8-bom or sjis), audited under actor before the file is written.
func (e *Engine) ExportCustomers(ctx context.Context, path, encoding, actor string) (export.Result, error) {
	return export.ToFile(ctx, e.db, path, encoding, actor)
}

// ExportCustomersTo is ExportCustomers through save; name is the file's
// name on the audit trail (a seat's file, issue 18).
func (e *Engine) ExportCustomersTo(ctx context.Context, name, encoding, actor string, save export.Save) (export.Result, error) {
	return export.To(ctx, e.db, name, encoding, actor, save)
}

// Now is the engine's clock (Options.Clock, else time.Now).
func (e *Engine) Now() time.Time { return e.now() }

// LineRequests is the LINE request log since a time, newest first, at most
// limit entries (no messages or tokens are in it).
func (e *Engine) LineRequests(ctx context.Context, since time.Time, limit int) ([]linelog.Entry, error) {
	return linelog.List(ctx, e.db.Reader(), since, limit)
}
