package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"tsunagu/internal/auth"
	"tsunagu/internal/linelog"
)

// `line requests`: the persisted LINE request log. It holds no message
// content, token or user ID, but it shows when and how much the branch
// sent, so it is for administrators and auditors (the audit trail's
// permission).
func lineLogCommands() []command {
	var since time.Duration
	var limit int
	return []command{{
		name:  "line requests",
		short: "show the LINE request log (time, endpoint, status, request ID; no messages or tokens)",
		flags: func(cmd *cobra.Command) {
			cmd.Flags().DurationVar(&since, "since", 24*time.Hour, "show the attempts of this last period, e.g. 1h, 72h (kept 90 days)")
			cmd.Flags().IntVar(&limit, "limit", 1000, "at most this many (the newest); 0: all")
		},
		run: func(ctx context.Context, c *cmdCtx, _ []string) error { return cmdLineRequests(ctx, c, since, limit) },
	}}
}

func cmdLineRequests(ctx context.Context, c *cmdCtx, since time.Duration, limit int) error {
	if since <= 0 {
		return usageError(errors.New("--since must be a positive duration, e.g. 24h"))
	}
	eng, _, err := c.openAudited(ctx, auth.PermAuditRead)
	if err != nil {
		return err
	}
	defer eng.Close()
	list, err := eng.LineRequests(ctx, time.Now().Add(-since), limit)
	if err != nil {
		return err
	}
	if list == nil {
		list = []linelog.Entry{}
	}
	return c.print(list, func(w io.Writer) {
		if len(list) == 0 {
			fmt.Fprintf(w, "no LINE requests in the last %s\n", since)
			return
		}
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "TIME\tENDPOINT\tSTATUS\tMS\tREQUEST ID\tRETRY KEY\tNOTE")
		for _, e := range list {
			status := strconv.Itoa(e.Status)
			if e.Status == 0 {
				status = "-"
			}
			note := e.Failure
			if e.Sandbox {
				note = join(note, "sandbox")
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\t%s\n", e.At.Local().Format("2006-01-02 15:04:05.000"), e.Endpoint, status,
				e.DurationMs, dash(e.RequestID), dash(e.RetryKey), note)
		}
		tw.Flush()
	})
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func join(a, b string) string {
	if a == "" {
		return b
	}
	return a + ", " + b
}
