package facade

// AuditService: reading and exporting the audit trail.

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"tsunagu/internal/audit"
	"tsunagu/internal/auth"
	"tsunagu/internal/engine"
)

// AuditReport is the audit viewer's page: entries, the chain's state, and
// Names: what the recorded actors and targets are called on screen (a
// staff actor or target by display name, "customer:<id>" by customer
// number), so the viewer shows no login or internal ID. Codes absent from
// Names (an erased customer) are named by the UI without their ID.
type AuditReport struct {
	Entries []audit.Entry     `json:"entries"`
	Chain   audit.Report      `json:"chain"`
	Names   map[string]string `json:"names"`
}

// AuditEntries lists audit entries matching the filter, newest first, with
// the result of verifying the whole chain.
func (s *AuditService) AuditEntries(f audit.Filter) (AuditReport, error) {
	return call(s.a, auth.PermAuditRead, func(ctx context.Context, _ auth.Staff, eng *engine.Engine) (AuditReport, error) {
		p, err := eng.AuditTrail().Page(ctx, f)
		if err != nil {
			return AuditReport{}, err
		}
		names, err := auditNames(ctx, eng, p.Entries)
		return AuditReport{Entries: p.Entries, Chain: p.Chain, Names: names}, err
	})
}

// auditNames resolves the staff actors and targets and the customer
// targets of entries to what people call them.
func auditNames(ctx context.Context, eng *engine.Engine, entries []audit.Entry) (map[string]string, error) {
	svc, err := eng.Auth()
	if err != nil {
		return nil, err
	}
	staff, err := svc.ActorNames(ctx)
	if err != nil {
		return nil, err
	}
	names := map[string]string{}
	var ids []int64
	for _, e := range entries {
		for _, code := range []string{e.Actor, e.Target} {
			if n, ok := staff[code]; ok {
				names[code] = n
			} else if id, ok := strings.CutPrefix(code, "customer:"); ok {
				if n, err := strconv.ParseInt(id, 10, 64); err == nil {
					ids = append(ids, n)
				}
			}
		}
	}
	numbers, err := eng.Customers().Numbers(ctx, ids)
	if err != nil {
		return nil, err
	}
	for id, no := range numbers {
		names["customer:"+strconv.FormatInt(id, 10)] = no
	}
	return names, nil
}

// AuditExport is a written audit export: where, and how many entries.
type AuditExport struct {
	Path    string `json:"path"`
	Entries int64  `json:"entries"`
}

// ExportAudit asks where to save, then writes every entry matching the
// filter (no limit; oldest first) there as CSV (UTF-8 with BOM, for Excel)
// through audit.Trail.Export, as tsunagu-cli audit export does: the export
// is recorded first with its count and range. An empty Path: cancelled.
func (s *AuditService) ExportAudit(f audit.Filter) (AuditExport, error) {
	return call(s.a, auth.PermAuditExport, func(ctx context.Context, st auth.Staff, eng *engine.Engine) (AuditExport, error) {
		path, save, err := s.a.saveTo(ctx, "CSV", "audit-"+eng.Now().Format("20060102")+".csv")
		if err != nil || path == "" {
			return AuditExport{}, err
		}
		f.Limit, f.Before = 0, 0 // an export is the whole range, not a page
		var n int64
		// save leaves no file shorter than its audit entry says.
		_, err = save(func(w io.Writer) (int, error) {
			var err error
			n, err = eng.AuditTrail().Export(ctx, st.Actor(), f, audit.ExportOptions{Detail: exportDetail(f)}, w)
			return int(n), err
		})
		if err != nil {
			return AuditExport{}, fmt.Errorf("audit export to %s: %w", baseName(path), err)
		}
		return AuditExport{Path: path, Entries: n}, nil
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

// exportDetail is the filter as the export's own audit entry records it:
// the days as the CLI's --from/--to (local dates, "to" included), and the
// actor and action filters when set.
func exportDetail(f audit.Filter) map[string]string {
	d := map[string]string{}
	if f.From > 0 {
		d["from"] = time.UnixMilli(f.From).Format(time.DateOnly)
	}
	if f.To > 0 {
		d["to"] = time.UnixMilli(f.To - 1).Format(time.DateOnly)
	}
	if f.Actor != "" {
		d["actor"] = f.Actor
	}
	if f.Action != "" {
		d["action"] = f.Action
	}
	return d
}
