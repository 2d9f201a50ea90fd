package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"text/tabwriter"
	"time"

	"tsunagu/internal/auth"
)

// The inbox: conversations, and dead letters: webhook events the inbox
// could not store, kept aside so the queue behind them flows on
// (docs/relay.md).
func inboxCommands() []command {
	return []command{
		{name: "inbox list", short: "list conversations with unread counts", run: cmdInboxList},
		{name: "deadletters list", short: "list webhook events the inbox could not store (kind, reason; never their text)", run: cmdDeadLettersList},
		{name: "deadletters retry", args: "ID|all", short: "process dead letters again (after an update fixed the cause)", run: cmdDeadLettersRetry},
		{name: "deadletters discard", args: "ID", short: "close a dead letter without storing it", run: cmdDeadLettersDiscard},
	}
}

func cmdInboxList(ctx context.Context, c *cmdCtx, _ []string) error {
	eng, _, err := c.openUnmasked(ctx, auth.PermInboxRead)
	if err != nil {
		return err
	}
	defer eng.Close()
	list, err := eng.Inbox().Conversations(ctx)
	if err != nil {
		return err
	}
	return c.print(list, func(w io.Writer) {
		if len(list) == 0 {
			fmt.Fprintln(w, "no conversations yet")
			return
		}
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tNAME\tUNREAD\tSTATUS\tLAST MESSAGE")
		for _, cv := range list {
			name := cv.DisplayName
			if name == "" {
				name = cv.LineUserID
			}
			last := "-"
			if cv.LastMessageAt > 0 {
				last = time.UnixMilli(cv.LastMessageAt).Local().Format("2006-01-02 15:04")
			}
			fmt.Fprintf(tw, "%d\t%s\t%d\t%s\t%s\n", cv.ID, name, cv.Unread, cv.Status, last)
		}
		tw.Flush()
	})
}

func cmdDeadLettersList(ctx context.Context, c *cmdCtx, _ []string) error {
	eng, _, err := c.openAudited(ctx, auth.PermSettings)
	if err != nil {
		return err
	}
	defer eng.Close()
	list, err := eng.Inbox().DeadLetters(ctx, false)
	if err != nil {
		return err
	}
	return c.print(list, func(w io.Writer) {
		if len(list) == 0 {
			fmt.Fprintln(w, "no dead letters: every event received was stored")
			return
		}
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tRECEIVED\tKIND\tATTEMPTS\tREASON")
		for _, d := range list {
			fmt.Fprintf(tw, "%d\t%s\t%s\t%d\t%s\n", d.ID, d.ReceivedAt.Local().Format("2006-01-02 15:04"), d.Kind, d.Attempts, d.Reason)
		}
		tw.Flush()
	})
}

// cmdDeadLettersRetry processes one dead letter again: ID, or "all".
func cmdDeadLettersRetry(ctx context.Context, c *cmdCtx, args []string) error {
	eng, actor, err := c.openAudited(ctx, auth.PermSettings)
	if err != nil {
		return err
	}
	defer eng.Close()
	var ids []int64
	if args[0] == "all" {
		list, err := eng.Inbox().DeadLetters(ctx, false)
		if err != nil {
			return err
		}
		for _, d := range list {
			ids = append(ids, d.ID)
		}
	} else {
		id, err := strconv.ParseInt(args[0], 10, 64)
		if err != nil {
			return usageError(fmt.Errorf("%q is not a dead letter ID (see `tsunagu-cli deadletters list`) or \"all\"", args[0]))
		}
		ids = []int64{id}
	}
	type result struct {
		ID     int64 `json:"id"`
		Stored bool  `json:"stored"`
	}
	var out []result
	failed := 0
	for _, id := range ids {
		ok, err := eng.Inbox().ReprocessDeadLetter(ctx, id, actor)
		if err != nil {
			return err
		}
		out = append(out, result{id, ok})
		if !ok {
			failed++
		}
	}
	if perr := c.print(out, func(w io.Writer) {
		for _, r := range out {
			if r.Stored {
				fmt.Fprintf(w, "dead letter %d: stored\n", r.ID)
			} else {
				fmt.Fprintf(w, "dead letter %d: failed again (see `deadletters list` for the reason)\n", r.ID)
			}
		}
	}); perr != nil {
		return perr
	}
	if failed > 0 {
		return errors.New(strconv.Itoa(failed) + " dead letter(s) could not be stored")
	}
	return nil
}

func cmdDeadLettersDiscard(ctx context.Context, c *cmdCtx, args []string) error {
	id, err := strconv.ParseInt(args[0], 10, 64)
	if err != nil {
		return usageError(fmt.Errorf("%q is not a dead letter ID (see `tsunagu-cli deadletters list`)", args[0]))
	}
	eng, actor, err := c.openAudited(ctx, auth.PermSettings)
	if err != nil {
		return err
	}
	defer eng.Close()
	if err := eng.Inbox().DiscardDeadLetter(ctx, id, actor); err != nil {
		return err
	}
	return c.print(map[string]any{"id": id, "discarded": true}, func(w io.Writer) {
		fmt.Fprintf(w, "dead letter %d: discarded (not stored)\n", id)
	})
}
