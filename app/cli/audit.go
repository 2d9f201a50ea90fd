package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"tsunagu/internal/audit"
	"tsunagu/internal/auth"
)

// The audit trail: verify its hash chain, export it for auditors.
func auditCommands() []command {
	return []command{
		{name: "audit verify", short: "check the audit trail's hash chain; names the first broken entry", run: cmdAuditVerify},
		auditExportCommand(),
	}
}

func cmdAuditVerify(ctx context.Context, c *cmdCtx, _ []string) error {
	eng, _, err := c.openAudited(ctx, auth.PermAuditRead)
	if err != nil {
		return err
	}
	defer eng.Close()
	rep, err := eng.AuditTrail().Verify(ctx)
	if err != nil {
		return err
	}
	if err := c.print(rep, func(w io.Writer) {
		if rep.OK {
			fmt.Fprintf(w, "audit trail: intact, %d entries\nhead:        %s\n", rep.Entries, rep.Head)
			return
		}
		fmt.Fprintf(w, "audit trail: BROKEN at entry #%d: %s\n", rep.BrokenAt, rep.Reason)
	}); err != nil {
		return err
	}
	if !rep.OK {
		return fmt.Errorf("the audit trail is broken at entry #%d", rep.BrokenAt)
	}
	return nil
}

// auditExportCommand writes every entry in the range asked for, oldest
// first, streamed (memory does not grow with the trail), and says on
// standard error how many it wrote. The export is audited with that count
// before anything is written.
func auditExportCommand() command {
	var from, to string
	return command{
		name:  "audit export",
		short: "write the audit trail as CSV to standard output, oldest first, all of it or a range of days; the count goes to standard error (for auditors)",
		flags: func(cmd *cobra.Command) {
			cmd.Flags().StringVar(&from, "from", "", "first day to export, YYYY-MM-DD, local time (default: the first entry)")
			cmd.Flags().StringVar(&to, "to", "", "last day to export (included), YYYY-MM-DD, local time (default: the last entry)")
		},
		run: func(ctx context.Context, c *cmdCtx, _ []string) error {
			filter, detail, err := exportRange(from, to)
			if err != nil {
				return err
			}
			eng, actor, err := c.openAudited(ctx, auth.PermAuditExport)
			if err != nil {
				return err
			}
			defer eng.Close()
			n, err := eng.AuditTrail().Export(ctx, actor, filter, audit.ExportOptions{JSON: c.json, Detail: detail}, c.stdout)
			if err != nil {
				return err
			}
			fmt.Fprintf(c.stderr, "exported %d audit entries (%s to %s)\n", n, orDefault(from, "first entry"), orDefault(to, "last entry"))
			return nil
		},
	}
}

// exportRange turns --from and --to (days, local time, both included) into
// a filter and the export entry's detail.
func exportRange(from, to string) (audit.Filter, map[string]string, error) {
	var f audit.Filter
	detail := map[string]string{}
	if from != "" {
		d, err := time.ParseInLocation(time.DateOnly, from, time.Local)
		if err != nil {
			return f, nil, usageError(fmt.Errorf("--from %q: expected a date like 2025-04-01", from))
		}
		f.From, detail["from"] = d.UnixMilli(), from
	}
	if to != "" {
		d, err := time.ParseInLocation(time.DateOnly, to, time.Local)
		if err != nil {
			return f, nil, usageError(fmt.Errorf("--to %q: expected a date like 2026-03-31", to))
		}
		f.To, detail["to"] = d.AddDate(0, 0, 1).UnixMilli(), to
	}
	if f.From > 0 && f.To > 0 && f.To <= f.From {
		return f, nil, usageError(fmt.Errorf("--to %s is before --from %s", to, from))
	}
	return f, detail, nil
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
