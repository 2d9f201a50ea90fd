package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"text/tabwriter"

	"tsunagu/internal/auth"
	"tsunagu/internal/engine"
)

// Staff accounts, and whether the CLI requires a staff sign-in
// (session.go).
func staffCommands() []command {
	return []command{
		{name: "staff list", short: "list staff accounts", run: cmdStaffList},
		{name: "staff add", args: "LOGIN ROLE", short: "add a staff account (display name and password on standard input)", run: cmdStaffAdd},
		{name: "staff deactivate", args: "LOGIN", short: "end a staff member's access at once (their history stays)", run: staffChange("deactivated: their sessions ended", (*auth.Service).Deactivate)},
		{name: "staff reactivate", args: "LOGIN", short: "let a deactivated staff member sign in again", run: staffChange("reactivated", (*auth.Service).Reactivate)},
		{name: "staff require-signin", args: "on|off", short: "require a staff sign-in (TSUNAGU_STAFF + password) for tsunagu-cli", run: cmdStaffRequireSignin},
		{name: "staff password", short: "choose your own password (TSUNAGU_STAFF; current, new and new again on standard input)", run: cmdStaffPassword},
	}
}

// cmdStaffPassword lets the staff member named by TSUNAGU_STAFF replace
// their password, as the window's own-password form does: a password an
// administrator set must be replaced before anything else, also for
// someone who only uses the CLI.
func cmdStaffPassword(ctx context.Context, c *cmdCtx, _ []string) error {
	eng, err := engine.Open(ctx, c.dataDir, c.keyring)
	if err != nil {
		return err
	}
	defer eng.Close()
	svc, ss, current, err := c.staffSignIn(ctx, eng, "Current password for ")
	if err != nil {
		return err
	}
	next, err := c.readSecretLine("New password: ")
	if err != nil {
		return err
	}
	again, err := c.readSecretLine("New password again: ")
	if err != nil {
		return err
	}
	if next != again {
		return errors.New("the two new passwords differ: nothing was changed")
	}
	if err := svc.ChangeOwnPassword(ctx, ss, current, next); err != nil {
		return err
	}
	login := ss.Staff().Login
	return c.print(map[string]string{"login": login, "result": "password changed"}, func(w io.Writer) { fmt.Fprintf(w, "staff %s: password changed\n", login) })
}

func cmdStaffList(ctx context.Context, c *cmdCtx, _ []string) error {
	eng, svc, _, err := c.openStaffAdmin(ctx)
	if err != nil {
		return err
	}
	defer eng.Close()
	list, err := svc.List(ctx)
	if err != nil {
		return err
	}
	return c.print(list, func(w io.Writer) {
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "LOGIN\tNAME\tROLE\tACTIVE")
		for _, s := range list {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", s.Login, s.DisplayName, s.Role, yesNo(s.Active))
		}
		tw.Flush()
	})
}

// cmdStaffAdd reads the display name and the password from standard input
// (one per line). The first administrator of a folder without staff is
// created as such (nobody could approve them otherwise).
func cmdStaffAdd(ctx context.Context, c *cmdCtx, args []string) error {
	eng, svc, actor, err := c.openStaffAdmin(ctx)
	if err != nil {
		return err
	}
	defer eng.Close()
	name, err := c.readLine("Display name: ")
	if err != nil {
		return err
	}
	pw, err := c.readSecretLine("Password: ")
	if err != nil {
		return err
	}
	n := auth.NewStaff{Login: args[0], Role: auth.Role(args[1]), DisplayName: name, Password: pw}
	var st auth.Staff
	if has, err := svc.HasStaff(ctx); err == nil && !has && n.Role == auth.RoleAdmin {
		st, err = svc.CreateFirstAdmin(ctx, n)
		if err != nil {
			return err
		}
	} else if st, err = svc.CreateStaff(ctx, actor, n); err != nil {
		return err
	}
	return c.print(st, func(w io.Writer) { fmt.Fprintf(w, "staff %s added (%s)\n", st.Login, st.Role) })
}

// staffChange is a command that changes one staff member (LOGIN), audited
// by the auth service.
func staffChange(what string, change func(svc *auth.Service, ctx context.Context, actor string, id int64) error) func(context.Context, *cmdCtx, []string) error {
	return func(ctx context.Context, c *cmdCtx, args []string) error {
		eng, svc, actor, err := c.openStaffAdmin(ctx)
		if err != nil {
			return err
		}
		defer eng.Close()
		st, err := svc.Get(ctx, args[0])
		if err != nil {
			return fmt.Errorf("staff %s: %w", args[0], err)
		}
		if err := change(svc, ctx, actor, st.ID); err != nil {
			return err
		}
		return c.print(map[string]string{"login": st.Login, "result": what}, func(w io.Writer) { fmt.Fprintf(w, "staff %s %s\n", st.Login, what) })
	}
}

func cmdStaffRequireSignin(ctx context.Context, c *cmdCtx, args []string) error {
	v := args[0]
	if v != "on" && v != "off" {
		return errors.New(`expected "on" or "off"`)
	}
	eng, actor, err := c.openAudited(ctx, auth.PermSettings)
	if err != nil {
		return err
	}
	defer eng.Close()
	if err := eng.SetCLISignIn(ctx, actor, v == "on"); err != nil {
		return err
	}
	return c.print(map[string]string{"requireSignin": v}, func(w io.Writer) { fmt.Fprintf(w, "staff sign-in for tsunagu-cli: %s\n", v) })
}

// openStaffAdmin opens the engine for a staff administration command
// (signed in with PermStaff where required) with its auth service.
func (c *cmdCtx) openStaffAdmin(ctx context.Context) (*engine.Engine, *auth.Service, string, error) {
	eng, actor, err := c.openAudited(ctx, auth.PermStaff)
	if err != nil {
		return nil, nil, "", err
	}
	svc, err := eng.Auth()
	if err != nil {
		eng.Close()
		return nil, nil, "", err
	}
	return eng, svc, actor, nil
}
