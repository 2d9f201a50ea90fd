package importer

import (
	"context"
	"database/sql"
	"strconv"

	"tsunagu/internal/audit"
)

// Audited actions of imports.
const (
	ActionImport       = "import.run"
	ActionImportDryRun = "import.dry_run"
	// ActionImportFailed: an import (or dry run) that failed or was
	// cancelled and wrote nothing, with the reason code.
	ActionImportFailed = "import.failed"
)

// Audited returns the Options.Audit hook that records an import (or dry
// run) by actor: the file's name and SHA-256, the counts and the mapping
// profile used. No row's content is recorded.
func Audited(actor, profile string) func(ctx context.Context, tx *sql.Tx, res Result) error {
	return func(ctx context.Context, tx *sql.Tx, res Result) error {
		_, err := audit.Record(ctx, tx, AuditEntry(actor, profile, res))
		return err
	}
}

// AuditEntry is the audit entry of an import's result.
func AuditEntry(actor, profile string, res Result) audit.Entry {
	e := audit.Entry{Actor: actor, Action: ActionImport, Target: "import:" + strconv.FormatInt(res.ImportID, 10)}
	if res.DryRun {
		e.Action, e.Target = ActionImportDryRun, ""
	}
	e.Detail = map[string]string{
		"kind":        res.Kind,
		"file":        res.FileName,
		"sha256":      res.SHA256,
		"encoding":    res.Encoding,
		"rows":        strconv.Itoa(res.Rows),
		"new":         strconv.Itoa(res.New),
		"updated":     strconv.Itoa(res.Updated),
		"unchanged":   strconv.Itoa(res.Unchanged),
		"rejected":    strconv.Itoa(res.Rejected),
		"missing":     strconv.Itoa(res.Missing),
		"inactivated": strconv.Itoa(res.Inactivated),
		"profile":     profile,
	}
	if res.Failure != "" {
		// The file was not read to its end (or not at all): no hash, and
		// counts only as far as it got.
		e.Action, e.Target = ActionImportFailed, ""
		e.Detail["reason"] = res.Failure
		e.Detail["dry_run"] = strconv.FormatBool(res.DryRun)
		if res.FailureLine > 0 {
			e.Detail["line"] = strconv.Itoa(res.FailureLine)
		}
		delete(e.Detail, "sha256")
	}
	return e
}
