package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"tsunagu/internal/auth"
	"tsunagu/internal/datadir"
	"tsunagu/internal/seat"
	"tsunagu/internal/seat/client"
	"tsunagu/internal/seat/primary"
	"tsunagu/internal/secrets"
)

// Branch seats: on the primary (親機) an administrator issues one-time
// seat codes, lists and revokes seats, and `seat serve` opens the seat
// port; on a seat (子機) `seat pair` pairs a data folder of its own and
// `seat status`/`seat watch` use the connection. Seat-side commands never
// open a customer database (there is none on a seat).
func seatCommands() []command {
	return []command{
		{name: "seat code", args: "NAME", short: "on the primary: issue a one-time seat code (10 minutes) for a new seat called NAME; shows the primary's fingerprint", run: cmdSeatCode},
		{name: "seat list", short: "on the primary: list paired seats (name, fingerprint, paired, last contact, revoked)", run: cmdSeatList},
		{name: "seat revoke", args: "NAME", short: "on the primary: revoke a seat; it is disconnected at once and refused after", run: cmdSeatRevoke},
		seatServeCommand(),
		seatPairCommand(),
		{name: "seat status", short: "on a seat: connect to the primary and show its time, version and this seat's name", run: cmdSeatStatus},
		seatWatchCommand(),
	}
}

func cmdSeatCode(ctx context.Context, c *cmdCtx, args []string) error {
	eng, actor, err := c.openAudited(ctx, auth.PermStaff)
	if err != nil {
		return err
	}
	defer eng.Close()
	id, err := eng.SeatIdentity(ctx)
	if err != nil {
		return err
	}
	code, err := eng.Seats().IssueCode(ctx, actor, args[0])
	if err != nil {
		return err
	}
	out := struct {
		primary.Code
		Fingerprint string `json:"primaryFingerprint"`
	}{code, id.Fingerprint.Short()}
	return c.print(out, func(w io.Writer) {
		fmt.Fprintf(w, "seat code for %s: %s\nvalid until:       %s (once)\nprimary fingerprint: %s\n",
			code.Name, code.Code, code.ExpiresAt.Local().Format(time.DateTime), out.Fingerprint)
		fmt.Fprintln(w, "on the new seat: tsunagu-cli seat pair --primary ADDRESS:PORT --fingerprint "+out.Fingerprint+" (the code on standard input)")
	})
}

func cmdSeatList(ctx context.Context, c *cmdCtx, _ []string) error {
	eng, _, err := c.openAudited(ctx, auth.PermStaff)
	if err != nil {
		return err
	}
	defer eng.Close()
	list, err := eng.Seats().List(ctx)
	if err != nil {
		return err
	}
	if list == nil {
		list = []primary.Seat{}
	}
	return c.print(list, func(w io.Writer) {
		if len(list) == 0 {
			fmt.Fprintln(w, "no seats paired")
			return
		}
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "NAME\tFINGERPRINT\tPAIRED\tLAST CONTACT\tREVOKED")
		for _, s := range list {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", s.Name, s.Short, s.CreatedAt.Local().Format(time.DateTime), timeOrDash(s.LastContactAt), timeOrDash(s.RevokedAt))
		}
		tw.Flush()
	})
}

func timeOrDash(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return t.Local().Format(time.DateTime)
}

func cmdSeatRevoke(ctx context.Context, c *cmdCtx, args []string) error {
	eng, actor, err := c.openAudited(ctx, auth.PermStaff)
	if err != nil {
		return err
	}
	defer eng.Close()
	// A running `seat serve` (or the window) notices within a second and
	// closes the seat's connections.
	s, err := eng.Seats().Revoke(ctx, actor, args[0])
	if err != nil {
		return err
	}
	return c.print(s, func(w io.Writer) {
		fmt.Fprintf(w, "seat %s revoked: it is disconnected and refused from now on\n", s.Name)
	})
}

func seatServeCommand() command {
	var listen string
	return command{
		name:  "seat serve",
		short: "on the primary: accept paired seats on --listen ADDRESS:PORT (one LAN address) until Ctrl-C",
		flags: func(cmd *cobra.Command) {
			cmd.Flags().StringVar(&listen, "listen", "", "one LAN address of this computer and the seat port, e.g. 192.168.1.20:7443 (required)")
		},
		run: func(ctx context.Context, c *cmdCtx, _ []string) error { return cmdSeatServe(ctx, c, listen) },
	}
}

func cmdSeatServe(ctx context.Context, c *cmdCtx, listen string) error {
	if listen == "" {
		return usageError(errors.New("give the address to listen on with --listen ADDRESS:PORT"))
	}
	if _, err := primary.CheckListenAddr(listen); err != nil {
		return usageError(err)
	}
	eng, _, err := c.openAudited(ctx, auth.PermStaff)
	if err != nil {
		return err
	}
	defer eng.Close()
	id, err := eng.SeatIdentity(ctx)
	if err != nil {
		return err
	}
	ln, err := primary.Listen(ctx, listen)
	if err != nil {
		return err
	}
	srv := primary.NewServer(primary.Config{Registry: eng.Seats(), Identity: id, Logger: slog.New(slog.NewTextHandler(c.stderr, nil))})
	info := map[string]string{"listen": ln.Addr().String(), "fingerprint": id.Fingerprint.Short()}
	if err := c.print(info, func(w io.Writer) {
		fmt.Fprintf(w, "accepting seats on %s\nprimary fingerprint: %s\n", info["listen"], info["fingerprint"])
	}); err != nil {
		ln.Close()
		return err
	}
	return srv.Serve(ctx, ln)
}

type seatPairFlags struct{ primary, fingerprint, code string }

func seatPairCommand() command {
	f := &seatPairFlags{}
	return command{
		name:  "seat pair",
		short: "on a seat: pair this data folder with the primary (--primary ADDRESS:PORT; the code from standard input); its key goes into this computer's keychain",
		flags: func(cmd *cobra.Command) {
			fs := cmd.Flags()
			fs.StringVar(&f.primary, "primary", "", "the primary's address and seat port, e.g. 192.168.1.20:7443 (required)")
			fs.StringVar(&f.fingerprint, "fingerprint", "", "the primary's fingerprint shown with the code; without it the fingerprint is shown and you confirm it (y) on standard input")
			fs.StringVar(&f.code, "code", "", "the seat code (default: read from standard input, which keeps it out of the process list)")
		},
		run: func(ctx context.Context, c *cmdCtx, _ []string) error { return cmdSeatPair(ctx, c, f) },
	}
}

// seatFolder is a seat's data folder: never one that holds a customer
// database (that is a primary, or a single PC).
func (c *cmdCtx) seatFolder(create bool) (datadir.Dir, *secrets.Store, error) {
	var dir datadir.Dir
	var err error
	if create {
		dir, err = datadir.Ensure(c.dataDir)
	} else {
		dir, err = datadir.Existing(c.dataDir)
	}
	if err != nil {
		return datadir.Dir{}, nil, err
	}
	if _, err := os.Stat(dir.DBPath()); err == nil {
		return datadir.Dir{}, nil, fmt.Errorf("%s holds a customer database, so it is a primary (or a single PC), not a seat: give a seat its own --data-dir", dir.Path)
	}
	var id string
	if create {
		id, err = dir.InstallID()
	} else {
		id, err = dir.ReadInstallID()
		if errors.Is(err, os.ErrNotExist) {
			return datadir.Dir{}, nil, client.ErrNotPaired
		}
	}
	if err != nil {
		return datadir.Dir{}, nil, err
	}
	return dir, secrets.New(c.keyring, id), nil
}

func cmdSeatPair(ctx context.Context, c *cmdCtx, f *seatPairFlags) error {
	if strings.TrimSpace(f.primary) == "" {
		return usageError(errors.New("give the primary's address with --primary ADDRESS:PORT"))
	}
	if f.fingerprint != "" {
		if _, err := seat.NormalizeShort(f.fingerprint); err != nil {
			return usageError(err)
		}
	}
	dir, sec, err := c.seatFolder(true)
	if err != nil {
		return err
	}
	code := f.code
	if code == "" {
		if code, err = c.readSecretLine("Seat code: "); err != nil {
			return err
		}
	}
	if strings.TrimSpace(code) == "" {
		return usageError(errors.New("no seat code (give it on standard input)"))
	}
	res, err := client.Pair(ctx, client.PairOptions{
		Addr: f.primary, Code: code, Fingerprint: f.fingerprint, Dir: dir, Secrets: sec,
		Confirm: func(short string) (bool, error) {
			fmt.Fprintf(c.stderr, "The primary at %s shows the fingerprint %s.\n", f.primary, short)
			ans, err := c.readLine("Is it the same as on the primary's screen? [y/N]: ")
			if err != nil {
				return false, err
			}
			return strings.EqualFold(ans, "y") || strings.EqualFold(ans, "yes"), nil
		},
	})
	if err != nil {
		return err
	}
	return c.print(res, func(w io.Writer) {
		fmt.Fprintf(w, "paired as %s with the primary at %s (fingerprint %s)\nthis seat's fingerprint: %s (the primary's seat list shows it)\n",
			res.Name, res.Primary, res.PrimaryShort, res.SeatShort)
	})
}

func (c *cmdCtx) seatConn(ctx context.Context) (*client.Conn, error) {
	dir, sec, err := c.seatFolder(false)
	if err != nil {
		return nil, err
	}
	return client.Open(ctx, dir, sec)
}

func cmdSeatStatus(ctx context.Context, c *cmdCtx, _ []string) error {
	conn, err := c.seatConn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	var out struct {
		Seat    primary.WhoAmI `json:"seat"`
		Primary primary.Status `json:"primary"`
	}
	if err := conn.Call(ctx, "whoami", nil, &out.Seat); err != nil {
		return err
	}
	if err := conn.Call(ctx, "status", nil, &out.Primary); err != nil {
		return err
	}
	return c.print(out, func(w io.Writer) {
		fmt.Fprintf(w, "seat:            %s (fingerprint %s)\nprimary time:    %s\nprimary version: %s\nseats online:    %s\n",
			out.Seat.Name, out.Seat.Fingerprint, out.Primary.Time.Local().Format(time.DateTime), out.Primary.Version, strings.Join(out.Primary.SeatsOnline, ", "))
	})
}

func seatWatchCommand() command {
	var count int
	return command{
		name:  "seat watch",
		short: "on a seat: print the primary's events as they come until Ctrl-C (or --count events); exit 1 when the connection ends",
		flags: func(cmd *cobra.Command) {
			cmd.Flags().IntVar(&count, "count", 0, "exit after this many events (0: until Ctrl-C)")
		},
		run: func(ctx context.Context, c *cmdCtx, _ []string) error { return cmdSeatWatch(ctx, c, count) },
	}
}

func cmdSeatWatch(ctx context.Context, c *cmdCtx, count int) error {
	conn, err := c.seatConn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	fmt.Fprintln(c.stderr, "connected; watching the primary's events")
	for n := 0; count == 0 || n < count; n++ {
		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-conn.Events():
			if !ok {
				return conn.Err()
			}
			if err := c.print(ev, func(w io.Writer) { fmt.Fprintf(w, "%s %s\n", ev.Name, ev.Body) }); err != nil {
				return err
			}
		}
	}
	return nil
}
