package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"tsunagu/internal/auth"
	"tsunagu/internal/campaign"
	"tsunagu/internal/engine"
)

// Campaigns: list, show, report and resume. They print counts and states,
// never customer data.
func campaignCommands() []command {
	return []command{
		{name: "campaign list", short: "list campaigns (status, channels, author, approver)", run: cmdCampaignList},
		{name: "campaign show", args: "ID", short: "show a campaign and its channel plan", run: cmdCampaignShow},
		{name: "campaign report", args: "ID", short: "show a campaign's delivery report (sent per channel, skipped by reason, failures)", run: cmdCampaignReport},
		{name: "campaign resume", args: "ID", short: "continue sending a campaign left sending by a crash (close the app first); email/SMS interrupted mid-send are reported, not resent", run: cmdCampaignResume},
	}
}

func campaignID(arg string) (int64, error) {
	id, err := strconv.ParseInt(arg, 10, 64)
	if err != nil || id <= 0 {
		return 0, usageError(fmt.Errorf("campaign ID must be a number, got %q", arg))
	}
	return id, nil
}

func cmdCampaignList(ctx context.Context, c *cmdCtx, _ []string) error {
	eng, _, err := c.openAudited(ctx, auth.PermDrafts)
	if err != nil {
		return err
	}
	defer eng.Close()
	list, err := eng.Campaigns().List(ctx)
	if err != nil {
		return err
	}
	return c.print(list, func(w io.Writer) {
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tNAME\tSTATUS\tCHANNELS\tAUTHOR\tAPPROVED BY\tUPDATED")
		for _, k := range list {
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\n", k.ID, k.Name, k.Status, strings.Join(k.Channels, ","), k.Author,
				k.ApprovedBy, time.UnixMilli(k.UpdatedAt).Format("2006-01-02 15:04"))
		}
		tw.Flush()
	})
}

func cmdCampaignShow(ctx context.Context, c *cmdCtx, args []string) error {
	id, err := campaignID(args[0])
	if err != nil {
		return err
	}
	eng, _, err := c.openAudited(ctx, auth.PermDrafts)
	if err != nil {
		return err
	}
	defer eng.Close()
	k, err := eng.Campaigns().Get(ctx, id)
	if err != nil {
		return err
	}
	plan, err := eng.Campaigns().Plan(ctx, id)
	if err != nil {
		return err
	}
	out := struct {
		Campaign campaign.Campaign `json:"campaign"`
		Plan     campaign.Plan     `json:"plan"`
	}{k, plan}
	return c.print(out, func(w io.Writer) {
		fmt.Fprintf(w, "campaign %d: %s\n", k.ID, k.Name)
		fmt.Fprintf(w, "status:    %s (version %d)\n", k.Status, k.Version)
		fmt.Fprintf(w, "author:    %s\n", k.Author)
		if k.Approved() {
			fmt.Fprintf(w, "approved:  by %s at %s\n", k.ApprovedBy, time.UnixMilli(k.ApprovedAt).Format("2006-01-02 15:04"))
		}
		if k.ScheduledAt > 0 {
			loc, err := time.LoadLocation(k.TimeZone)
			if err != nil {
				loc = time.UTC
			}
			fmt.Fprintf(w, "scheduled: %s (%s)\n", time.UnixMilli(k.ScheduledAt).In(loc).Format("2006-01-02 15:04"), k.TimeZone)
		}
		fmt.Fprintf(w, "channels:  %s\n", strings.Join(k.Channels, " → "))
		fmt.Fprintf(w, "plan:      %d matched; LINE %d, email %d, SMS %d\n", plan.Matched, plan.Line, plan.Email, plan.SMS)
		printSkipped(w, plan.Skipped)
		if plan.LineRequests > 0 {
			fmt.Fprintf(w, "LINE:      %d requests, %d messages of quota", plan.LineRequests, plan.QuotaNeed)
			if plan.QuotaChecked && plan.QuotaLimited {
				fmt.Fprintf(w, " (%d left of %d)", plan.QuotaLeft, plan.QuotaLimit)
			}
			fmt.Fprintln(w)
		}
		if k.Error != "" {
			fmt.Fprintf(w, "last error: %s\n", k.Error)
		}
	})
}

func printSkipped(w io.Writer, skipped map[string]int) {
	for _, r := range campaign.SkipReasons {
		if skipped[r] > 0 {
			fmt.Fprintf(w, "  skipped %-11s %d\n", r+":", skipped[r])
		}
	}
}

func cmdCampaignReport(ctx context.Context, c *cmdCtx, args []string) error {
	id, err := campaignID(args[0])
	if err != nil {
		return err
	}
	eng, _, err := c.openAudited(ctx, auth.PermDrafts)
	if err != nil {
		return err
	}
	defer eng.Close()
	rep, err := eng.Campaigns().Report(ctx, id)
	if err != nil {
		return err
	}
	return c.print(rep, func(w io.Writer) { printReport(w, rep) })
}

func printReport(w io.Writer, rep campaign.Report) {
	fmt.Fprintf(w, "campaign %d: %s, %d matched\n", rep.CampaignID, rep.Status, rep.Matched)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "CHANNEL\tPLANNED\tSENT\tFAILED\tPENDING\tUNCERTAIN")
	for _, ch := range rep.Channels {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\n", ch.Channel, ch.Planned, ch.Sent, ch.Failed, ch.Pending, ch.Uncertain)
	}
	tw.Flush()
	printSkipped(w, rep.Skipped)
	if rep.LineRequests > 0 {
		fmt.Fprintf(w, "LINE requests: %d sent, %d failed, %d pending of %d\n", rep.LineSent, rep.LineFailed, rep.LinePending, rep.LineRequests)
	}
	if rep.Error != "" {
		fmt.Fprintf(w, "last error: %s\n", rep.Error)
	}
}

// cmdCampaignResume starts the engine (which resumes every campaign a
// crash left sending) and waits for this campaign to finish. The app must
// be closed: two processes sending one campaign would mark each other's
// interrupted emails uncertain.
func cmdCampaignResume(ctx context.Context, c *cmdCtx, args []string) error {
	id, err := campaignID(args[0])
	if err != nil {
		return err
	}
	check, _, err := c.openAudited(ctx, auth.PermApprove)
	if err != nil {
		return err
	}
	k, err := check.Campaigns().Get(ctx, id)
	check.Close()
	if err != nil {
		return err
	}
	if k.Status != campaign.StatusSending {
		return fmt.Errorf("campaign %d is %s, not sending: nothing to resume", id, k.Status)
	}
	eng, err := engine.Start(ctx, engine.Options{DataDir: c.dataDir, Keyring: c.keyring})
	if err != nil {
		return err
	}
	defer eng.Close()
	if eng.Sandbox() {
		return errors.New("no LINE channel is configured: the campaign would go to the sandbox simulator; run `channel set` first")
	}
	svc := eng.Campaigns()
	lastProgress, last := time.Now(), campaign.Report{}
	for {
		rep, err := svc.Report(ctx, id)
		if err != nil {
			return err
		}
		if rep.Status != campaign.StatusSending {
			return c.print(rep, func(w io.Writer) { printReport(w, rep) })
		}
		if progress(rep) != progress(last) {
			lastProgress, last = time.Now(), rep
		}
		if time.Since(lastProgress) > 2*time.Minute {
			return fmt.Errorf("campaign %d makes no progress: %s", id, rep.Error)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
}

func progress(r campaign.Report) int {
	n := r.LineSent + r.LineFailed
	for _, ch := range r.Channels {
		n += ch.Sent + ch.Failed + ch.Uncertain
	}
	return n
}
