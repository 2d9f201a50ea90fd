package facade

// AuditService: reading and exporting the audit trail.

import (
	"context"
	"strings"

	"tsunagu/internal/audit"
	"tsunagu/internal/auth"
	"tsunagu/internal/engine"
)

// AuditReport is the audit viewer's page: entries and the chain's state
// (audit.Page under the contract's name).
type AuditReport audit.Page

// AuditEntries lists audit entries matching the filter, newest first, with
// the result of verifying the whole chain.
func (s *AuditService) AuditEntries(f audit.Filter) (AuditReport, error) {
	return call(s.a, auth.PermAuditRead, func(ctx context.Context, _ auth.Staff, eng *engine.Engine) (AuditReport, error) {
		p, err := eng.AuditTrail().Page(ctx, f)
		return AuditReport(p), err
	})
}

// ExportAudit returns every entry matching the filter (no limit; oldest
// first) as CSV (UTF-8 with BOM, for Excel), and records the export with
// the count it holds.
func (s *AuditService) ExportAudit(f audit.Filter) (string, error) {
	return call(s.a, auth.PermAuditExport, func(ctx context.Context, st auth.Staff, eng *engine.Engine) (string, error) {
		var out strings.Builder
		_, err := eng.AuditTrail().Export(ctx, st.Actor(), f, audit.ExportOptions{}, &out)
		return out.String(), err
	})
}
