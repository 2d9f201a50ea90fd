package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"tsunagu/internal/auth"
	"tsunagu/internal/engine"
	"tsunagu/internal/relayclient"
)

// The webhook relay from the command line: enroll this data folder, show or
// end the enrollment, set the webhook URL on LINE (each audited by the
// engine, as in the window), and `sync`, which pulls, verifies and stores
// events for a PC that only collects (or, with --once, drains and exits),
// running the schedule (backups, retention) as the window does.
func relayCommands() []command {
	return []command{
		relayEnrollCommand(),
		{name: "relay status", short: "show the webhook relay enrollment", run: cmdRelayStatus},
		{name: "relay disconnect", short: "stop using the webhook relay and remove its keys from the keychain", run: cmdRelayDisconnect},
		{name: "relay set-webhook", short: "set the channel's webhook URL on LINE to the relay's", run: cmdRelaySetWebhook},
		syncCommand(),
	}
}

type enrollFlags struct {
	relay, code       string
	allowHTTPLoopback bool
}

func relayEnrollCommand() command {
	f := &enrollFlags{}
	return command{
		name:  "relay enroll",
		short: "enroll this data folder with a webhook relay (--relay URL; the code from standard input, or --code)",
		flags: func(cmd *cobra.Command) {
			fs := cmd.Flags()
			fs.StringVar(&f.relay, "relay", "", "the relay's address, e.g. https://relay.example.jp (required)")
			fs.StringVar(&f.code, "code", "", "the enrollment code (default: read from standard input, which keeps it out of the process list)")
			fs.BoolVar(&f.allowHTTPLoopback, "allow-http-loopback", false, "for tests and development only: accept an http:// relay on this computer (127.0.0.0/8, ::1, localhost); otherwise only https:// is accepted, since the code would travel in the clear")
		},
		run: func(ctx context.Context, c *cmdCtx, _ []string) error { return cmdRelayEnroll(ctx, c, f) },
	}
}

func syncCommand() command {
	var once bool
	return command{
		name:  "sync",
		short: "receive webhooks from the relay, verify and store them until Ctrl-C; --once: store what is queued and exit",
		flags: func(cmd *cobra.Command) {
			cmd.Flags().BoolVar(&once, "once", false, "store what is queued at the relay, then exit")
		},
		run: func(ctx context.Context, c *cmdCtx, _ []string) error { return cmdSync(ctx, c, once) },
	}
}

func cmdRelayEnroll(ctx context.Context, c *cmdCtx, f *enrollFlags) error {
	if strings.TrimSpace(f.relay) == "" {
		return usageError(errors.New("give the relay's address with --relay URL"))
	}
	transport := relayclient.HTTPSOnly
	if f.allowHTTPLoopback {
		transport = relayclient.HTTPLoopback
	}
	// Checked before anything is opened, asked or sent.
	if _, err := relayclient.EnrollURL(f.relay, transport); err != nil {
		if errors.Is(err, relayclient.ErrInsecureURL) {
			err = fmt.Errorf("%w\n  The enrollment code would travel in the clear: anyone on the way could redeem it and receive this branch's messages. Use the relay's https:// address.", err)
		}
		return usageError(err)
	}
	eng, actor, err := c.openAudited(ctx, auth.PermChannel)
	if err != nil {
		return err
	}
	defer eng.Close()
	code := f.code
	if code == "" {
		if code, err = c.readSecretLine("Enrollment code: "); err != nil {
			return err
		}
	}
	if strings.TrimSpace(code) == "" {
		return usageError(errors.New("no enrollment code (give it on standard input)"))
	}
	en, err := eng.RelayEnroll(ctx, actor, f.relay, code, transport)
	if err != nil {
		return err
	}
	return c.print(en, func(w io.Writer) {
		fmt.Fprintf(w, "enrolled as tenant %s at %s\nwebhook URL for LINE: %s\n", en.Tenant, en.RelayURL, en.WebhookURL)
		fmt.Fprintln(w, "set it on the channel with `tsunagu-cli relay set-webhook` (or in the LINE Developers console)")
	})
}

func cmdRelayStatus(ctx context.Context, c *cmdCtx, _ []string) error {
	eng, _, err := c.openAudited(ctx, auth.PermChannel)
	if err != nil {
		return err
	}
	defer eng.Close()
	st := eng.RelayStatus()
	return c.print(st, func(w io.Writer) {
		if !st.Enrolled {
			fmt.Fprintln(w, "not enrolled with a webhook relay")
			return
		}
		fmt.Fprintf(w, "relay:       %s\ntenant:      %s\nwebhook URL: %s\nenrolled:    %s\n",
			st.RelayURL, st.Tenant, st.WebhookURL, st.EnrolledAt.Local().Format(time.DateTime))
		fmt.Fprintln(w, "(the desktop app or `tsunagu-cli sync` receives the events)")
	})
}

func cmdRelayDisconnect(ctx context.Context, c *cmdCtx, _ []string) error {
	eng, actor, err := c.openAudited(ctx, auth.PermChannel)
	if err != nil {
		return err
	}
	defer eng.Close()
	if err := eng.RelayDisconnect(ctx, actor); err != nil {
		return err
	}
	return c.print(map[string]any{"enrolled": false}, func(w io.Writer) {
		fmt.Fprintln(w, "disconnected from the relay; its keys were removed from the keychain")
	})
}

// startForRelay checks the permission, then starts the engine with LINE
// (the verifier needs the channel secret).
func (c *cmdCtx) startForRelay(ctx context.Context) (*engine.Engine, string, error) {
	actor, err := c.checkAllowed(ctx, auth.PermChannel)
	if err != nil {
		return nil, "", err
	}
	eng, err := engine.Start(ctx, engine.Options{DataDir: c.dataDir, Keyring: c.keyring, Clock: c.clock})
	if err != nil {
		return nil, "", err
	}
	return eng, actor, nil
}

func cmdRelaySetWebhook(ctx context.Context, c *cmdCtx, _ []string) error {
	eng, actor, err := c.startForRelay(ctx)
	if err != nil {
		return err
	}
	defer eng.Close()
	if eng.Sandbox() {
		return errors.New("no LINE channel is configured (sandbox mode): `tsunagu-cli channel set` first")
	}
	u, err := eng.RelaySetWebhookOnLINE(ctx, actor)
	if err != nil {
		return err
	}
	return c.print(map[string]any{"webhookUrl": u}, func(w io.Writer) {
		fmt.Fprintf(w, "LINE now sends this channel's webhooks to %s\n", u)
	})
}

func cmdSync(ctx context.Context, c *cmdCtx, once bool) error {
	eng, _, err := c.startForRelay(ctx)
	if err != nil {
		return err
	}
	defer eng.Close()
	if once {
		res, err := eng.SyncOnce(ctx)
		if err != nil {
			return syncError(err)
		}
		return c.print(res, func(w io.Writer) {
			fmt.Fprintf(w, "%d event(s) received: %d stored, %d dropped for a bad LINE signature, %d dropped as junk\n", res.Received, res.Stored, res.Forged, res.Junk)
			if res.DeadLetters > 0 {
				fmt.Fprintf(w, "%d event(s) could not be stored and wait as dead letters: `tsunagu-cli deadletters list`\n", res.DeadLetters)
			}
		})
	}
	last := relayclient.State("")
	err = eng.RelayRun(ctx, engine.ScheduleInterval, func(st relayclient.Status) {
		if st.State == last {
			return
		}
		if last == "" {
			fmt.Fprintln(c.stderr, "receiving from the relay; Ctrl-C stops")
		}
		last = st.State
		fmt.Fprintf(c.stderr, "%s %s\n", time.Now().Format(time.TimeOnly), st.State)
	})
	return syncError(err)
}

// syncError gives "another receiver is running" its own exit code.
func syncError(err error) error {
	if errors.Is(err, engine.ErrRelayBusy) {
		return exitError{exitBusy, fmt.Errorf("%w\n  Nothing was received. Only one program at a time receives a data folder's messages from the relay; stop the other one (or let it do the work).", err)}
	}
	return err
}
