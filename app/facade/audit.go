package facade

// AuditService: reading and exporting the audit trail.

import (
	"strconv"
	"strings"
	"tsunagu/internal/audit"
	"tsunagu/internal/auth"
)

// AuditEntries lists audit entries matching the filter, newest first, with
// the result of verifying the whole chain.
func (a *App) AuditEntries(f audit.Filter) (AuditReport, error) {
	_, _, eng, err := a.requireService(auth.PermAuditRead)
	if err != nil {
		return AuditReport{Entries: []audit.Entry{}}, err
	}
	entries, err := audit.List(a.context(), eng.DB().Reader(), f)
	if err != nil {
		return AuditReport{Entries: []audit.Entry{}}, a.userError(err)
	}
	chain, err := audit.Verify(a.context(), eng.DB().Reader())
	return AuditReport{Entries: entries, Chain: chain}, a.userError(err)
}

// ExportAudit returns every entry matching the filter (no limit; oldest
// first) as CSV (UTF-8 with BOM, for Excel), and records the export with
// the count it holds.
func (a *App) ExportAudit(f audit.Filter) (string, error) {
	st, _, eng, err := a.requireService(auth.PermAuditExport)
	if err != nil {
		return "", err
	}
	x, err := audit.BeginExport(a.context(), eng.DB().Reader(), f)
	if err != nil {
		return "", a.userError(err)
	}
	defer x.Close()
	if err := a.record(eng, audit.Entry{At: a.now(), Actor: st.Actor(), Action: audit.ActionExport, Detail: map[string]string{"entries": strconv.FormatInt(x.Count, 10)}}); err != nil {
		return "", a.userError(err)
	}
	var out strings.Builder
	if _, err := x.WriteCSV(a.context(), &out); err != nil {
		return "", a.userError(err)
	}
	return out.String(), nil
}
