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

// AuditActor is one choice of the audit viewer's actor filter: the actor as
// stored (the filter's value) and, for staff, their name and login.
type AuditActor struct {
	Actor       string `json:"actor"`
	DisplayName string `json:"displayName"` // staff only
	Login       string `json:"login"`       // staff only
}

// AuditActors lists who appears in the audit trail, staff with their
// names, so the filter is picked from a list rather than typed as an ID.
func (s *AuditService) AuditActors() ([]AuditActor, error) {
	return call(s.a, auth.PermAuditRead, func(ctx context.Context, _ auth.Staff, eng *engine.Engine) ([]AuditActor, error) {
		actors, err := eng.AuditTrail().Actors(ctx)
		if err != nil {
			return nil, err
		}
		svc, err := eng.Auth()
		if err != nil {
			return nil, err
		}
		staff, err := svc.List(ctx)
		if err != nil {
			return nil, err
		}
		names := map[string]auth.Staff{}
		for _, st := range staff {
			names[st.Actor()] = st
		}
		out := make([]AuditActor, 0, len(actors))
		for _, a := range actors {
			row := AuditActor{Actor: a}
			if st, ok := names[a]; ok {
				row.DisplayName, row.Login = st.DisplayName, st.Login
			}
			out = append(out, row)
		}
		return out, nil
	})
}
