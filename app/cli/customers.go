package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"tsunagu/internal/auth"
	"tsunagu/internal/customer"
	"tsunagu/internal/export"
	"tsunagu/internal/importer"
)

// Customers: import, export and list. `import` is meant for Windows Task
// Scheduler and cron as much as for people, so its exit codes say what
// happened:
//
//	0  imported (or dry run): every row accepted
//	1  failed: nothing was written (bad input: a file that cannot be read,
//	   e.g. a line over 1 MiB because it has no line breaks, a header whose
//	   quote is never closed, a bad mapping, no valid row; or a locked
//	   keychain, ...). Failed imports are audited (import.failed).
//	2  usage error: nothing was written
//	3  imported, but some rows were rejected: see --report
//	4  cancelled (Ctrl+C), at any step: nothing was written
func customerCommands() []command {
	return []command{importCommand(), exportCommand(), listCommand()}
}

// importFlags are the flags of `import`.
type importFlags struct {
	kind, profile, encoding, report, missing string
	auto, dryRun                             bool
}

func importCommand() command {
	f := &importFlags{}
	return command{
		name:  "import",
		args:  "FILE",
		short: "import customers (or --kind contracts) from a CSV file; exit 3 if rows were rejected",
		flags: func(cmd *cobra.Command) {
			fs := cmd.Flags()
			fs.StringVar(&f.kind, "kind", "", "what the file holds: customers (default) or contracts (keyed by customer number and product code or account number)")
			fs.StringVar(&f.profile, "profile", "", "saved mapping profile to use")
			fs.BoolVar(&f.auto, "auto", false, "map columns automatically from their header names (the default without --profile)")
			fs.BoolVar(&f.dryRun, "dry-run", false, "validate and count new/updated/unchanged/rejected rows; write nothing")
			fs.StringVar(&f.encoding, "encoding", "", "auto, utf-8, sjis or euc-jp (default: the profile's, else auto)")
			fs.StringVar(&f.report, "report", "", "write the rejected rows (line, column, masked value, reason) to this CSV file")
			fs.StringVar(&f.missing, "missing", importer.MissingKeep, "customers (contracts) missing from the file: keep, or inactivate (closed for contracts) for full exports; never deleted")
		},
		run: func(ctx context.Context, c *cmdCtx, args []string) error { return cmdImport(ctx, c, args[0], f) },
	}
}

func exportCommand() command {
	var encoding string
	return command{
		name:  "export customers",
		args:  "FILE",
		short: "write all customers as CSV",
		flags: func(cmd *cobra.Command) {
			cmd.Flags().StringVar(&encoding, "encoding", export.UTF8BOM, "utf-8-bom (Excel) or sjis")
		},
		run: func(ctx context.Context, c *cmdCtx, args []string) error {
			return cmdExportCustomers(ctx, c, args[0], encoding)
		},
	}
}

func listCommand() command {
	var f customer.Filter
	return command{
		name:  "customers list",
		short: "list customers",
		flags: func(cmd *cobra.Command) {
			fs := cmd.Flags()
			fs.StringVar(&f.Query, "query", "", "search customer number, name, kana, phone or email")
			fs.StringVar(&f.Branch, "branch", "", "only this branch")
			fs.StringVar(&f.Status, "status", "", "active or inactive")
			fs.IntVar(&f.Limit, "limit", 50, "at most this many")
		},
		run: func(ctx context.Context, c *cmdCtx, _ []string) error { return cmdCustomersList(ctx, c, f) },
	}
}

func cmdImport(ctx context.Context, c *cmdCtx, path string, f *importFlags) error {
	if f.auto && f.profile != "" {
		return usageError(errors.New("--auto and --profile exclude each other"))
	}
	eng, actor, err := c.openAudited(ctx, auth.PermImport)
	if err != nil {
		return err
	}
	defer eng.Close()

	opts := importer.Options{Kind: f.kind, DryRun: f.dryRun, Missing: f.missing, Staff: actor, FileName: filepath.Base(path)}
	if f.profile != "" {
		p, err := eng.Imports().Profile(ctx, f.profile)
		if err != nil {
			return err
		}
		opts.Encoding, opts.Mapping, opts.Profile = p.Encoding, p.Mapping, p.Name
		if f.kind == "" {
			opts.Kind = p.Kind
		}
		if p.Delimiter != "" {
			opts.Delimiter = []rune(p.Delimiter)[0]
		}
	}
	if f.encoding != "" {
		opts.Encoding = f.encoding
	}
	var reported []importer.Issue
	if f.report != "" {
		// Every issue, not only the Result's first MaxIssues; they are
		// masked, so the report holds no customer data.
		opts.OnIssue = func(is importer.Issue) { reported = append(reported, is) }
	}
	if !c.json {
		opts.Progress = func(p importer.Progress) { printProgress(c.stderr, p) }
	}
	res, err := eng.Imports().Run(ctx, actor, path, opts)
	if f.report != "" && (err == nil || res.Rejected > 0) {
		err = errors.Join(err, writeReport(f.report, reported))
	}
	if err != nil {
		if errors.Is(err, context.Canceled) {
			return exitError{exitCancelled, errors.New("cancelled: nothing was written")}
		}
		return err
	}
	if perr := c.print(res, func(w io.Writer) { printImport(w, res) }); perr != nil {
		return perr
	}
	if res.Rejected > 0 {
		msg := fmt.Sprintf("%d row(s) rejected", res.Rejected)
		if f.report != "" {
			msg += " (see " + f.report + ")"
		} else {
			msg += " (write them with --report FILE)"
		}
		return exitError{exitRejected, errors.New(msg)}
	}
	return nil
}

func writeReport(path string, issues []importer.Issue) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	if err := importer.WriteReport(f, issues, "ja"); err != nil {
		f.Close()
		return fmt.Errorf("report: %w", err)
	}
	return f.Close()
}

func printProgress(w io.Writer, p importer.Progress) {
	if p.Stage == importer.StageMissing {
		fmt.Fprintf(w, "\r%d rows read; checking for customers not in the file ...   ", p.Rows)
		return
	}
	if p.Done {
		fmt.Fprintf(w, "\r%d rows, %.0f rows/s%20s\n", p.Rows, p.RowsPerSec, "")
		return
	}
	pct := 0.0
	if p.TotalBytes > 0 {
		pct = 100 * float64(p.Bytes) / float64(p.TotalBytes)
	}
	fmt.Fprintf(w, "\r%5.1f%%  %d rows  %.0f rows/s  ETA %s   ", pct, p.Rows, p.RowsPerSec, (time.Duration(p.ETASeconds) * time.Second).String())
}

func printImport(w io.Writer, r importer.Result) {
	mode := "imported"
	if r.DryRun {
		mode = "dry run (nothing written)"
	}
	fmt.Fprintf(w, "%s (%s): %s\n", mode, r.Kind, r.FileName)
	fmt.Fprintf(w, "encoding:   %s, delimiter %q\n", r.Encoding, r.Delimiter)
	fmt.Fprintf(w, "sha256:     %s\n", r.SHA256)
	fmt.Fprintf(w, "rows:       %d\n", r.Rows)
	fmt.Fprintf(w, "new:        %d\n", r.New)
	fmt.Fprintf(w, "updated:    %d\n", r.Updated)
	fmt.Fprintf(w, "unchanged:  %d\n", r.Unchanged)
	fmt.Fprintf(w, "rejected:   %d\n", r.Rejected)
	fmt.Fprintf(w, "missing:    %d (inactivated %d)\n", r.Missing, r.Inactivated)
}

func cmdExportCustomers(ctx context.Context, c *cmdCtx, file, encoding string) error {
	eng, actor, err := c.openAudited(ctx, auth.PermExport)
	if err != nil {
		return err
	}
	defer eng.Close()
	res, err := eng.ExportCustomers(ctx, file, encoding, actor)
	if err != nil {
		return err
	}
	return c.print(res, func(w io.Writer) {
		fmt.Fprintf(w, "exported %d customers to %s (%s)\n", res.Rows, res.Path, res.Encoding)
		if res.Replaced > 0 {
			fmt.Fprintf(w, "%d character(s) not in Shift_JIS were written as %s\n", res.Replaced, export.Replacement)
		}
	})
}

func cmdCustomersList(ctx context.Context, c *cmdCtx, f customer.Filter) error {
	eng, actor, err := c.openUnmasked(ctx, auth.PermCustomersRead)
	if err != nil {
		return err
	}
	defer eng.Close()
	// Audited: the list prints customers' details in full.
	page, err := eng.Customers().ListAudited(ctx, actor, f)
	if err != nil {
		return err
	}
	return c.print(page, func(w io.Writer) {
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "NUMBER\tNAME\tKANA\tBRANCH\tSTATUS\tLINE")
		for _, cu := range page.Customers {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", cu.CustomerNo, cu.Name, cu.NameKana, cu.Branch, cu.Status, yesNo(cu.LineLinked))
		}
		tw.Flush()
		fmt.Fprintf(w, "%d of %d\n", len(page.Customers), page.Total)
	})
}
