package main

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"tsunagu/internal/auth"
	"tsunagu/internal/forms"
)

// Web forms (docs/forms.md): IT's LIFF set-up and a list of the forms; the
// designer is in the app.
func formCommands() []command {
	var st forms.Settings
	return []command{
		{name: "forms setup", short: "store the LINE Login channel ID and LIFF ID that web forms run in (docs/install.md)",
			flags: func(cmd *cobra.Command) {
				fs := cmd.Flags()
				fs.StringVar(&st.LoginChannelID, "login-channel", "", "the LINE Login channel ID (digits; required)")
				fs.StringVar(&st.LIFFID, "liff-id", "", "the LIFF app's ID, CHANNELID-xxxxxxxx (required)")
			},
			run: func(ctx context.Context, c *cmdCtx, _ []string) error { return cmdFormsSetup(ctx, c, st) }},
		{name: "forms list", short: "list web forms: status, answers, refused submissions, URL", run: cmdFormsList},
	}
}

func cmdFormsSetup(ctx context.Context, c *cmdCtx, st forms.Settings) error {
	if st.LoginChannelID == "" || st.LIFFID == "" {
		return usageError(fmt.Errorf("--login-channel and --liff-id are required"))
	}
	eng, actor, err := c.openAudited(ctx, auth.PermSettings)
	if err != nil {
		return err
	}
	defer eng.Close()
	got, err := eng.Forms().SetSettings(ctx, actor, st)
	if err != nil {
		return err
	}
	return c.print(got, func(w io.Writer) {
		fmt.Fprintf(w, "web forms: LINE Login channel %s, LIFF app %s\n", got.LoginChannelID, got.LIFFID)
	})
}

func cmdFormsList(ctx context.Context, c *cmdCtx, _ []string) error {
	eng, _, err := c.openAudited(ctx, auth.PermSettings)
	if err != nil {
		return err
	}
	defer eng.Close()
	list, err := eng.Forms().List(ctx, true)
	if err != nil {
		return err
	}
	return c.print(list, func(w io.Writer) {
		if len(list) == 0 {
			fmt.Fprintln(w, "no web forms yet")
			return
		}
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tTITLE\tSTATUS\tANSWERS\tREFUSED\tURL")
		for _, f := range list {
			url := f.URL
			if url == "" {
				url = "-"
			}
			fmt.Fprintf(tw, "%d\t%s\t%s\t%d\t%d\t%s\n", f.ID, f.Title, f.Status, f.Answers, f.Rejected, url)
		}
		tw.Flush()
	})
}
