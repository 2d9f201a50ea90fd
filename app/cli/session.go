package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/user"
	"strings"

	"golang.org/x/term"

	"tsunagu/internal/audit"
	"tsunagu/internal/auth"
	"tsunagu/internal/engine"
)

// Who runs a command, and what they type.
//
// tsunagu-cli runs as the OS user who holds the keychain items (and so can
// open the DB anyway); its changes are audited as "os:<user>". An
// administrator can require a staff sign-in as well (`staff require-signin
// on`): the CLI then asks for TSUNAGU_STAFF's password and audits under that
// staff member, whose role must allow the command. Secrets (passwords,
// codes, the channel's token) come from standard input, never from
// arguments, which other users can see in the process list.

// StaffEnv names the staff member the CLI signs in as when a sign-in is
// required.
const StaffEnv = "TSUNAGU_STAFF"

// openAudited opens the DB and returns the audit actor of this invocation:
// the OS user, or the signed-in staff member when an administrator requires
// it. If perm is not empty, a staff member must have it.
func (c *cmdCtx) openAudited(ctx context.Context, perm auth.Permission) (*engine.Engine, string, error) {
	eng, actor, _, err := c.openSignedIn(ctx, perm)
	return eng, actor, err
}

// openUnmasked is openAudited for commands that print personal data: the
// CLI does not mask, so a role that sees masked data (agency) is refused.
func (c *cmdCtx) openUnmasked(ctx context.Context, perm auth.Permission) (*engine.Engine, string, error) {
	eng, actor, role, err := c.openSignedIn(ctx, perm)
	if err != nil {
		return nil, "", err
	}
	if role.Masked() {
		eng.Close()
		return nil, "", fmt.Errorf("role %s sees personal data masked, which tsunagu-cli cannot do: use the app", role)
	}
	return eng, actor, nil
}

// checkAllowed is openAudited for commands that then need the data folder
// to themselves or a started engine: it checks the sign-in and permission
// and closes the DB again.
func (c *cmdCtx) checkAllowed(ctx context.Context, perm auth.Permission) (string, error) {
	eng, actor, err := c.openAudited(ctx, perm)
	if err != nil {
		return "", err
	}
	return actor, eng.Close()
}

// openSignedIn is openAudited, also returning the staff member's role ("" for
// the OS user).
func (c *cmdCtx) openSignedIn(ctx context.Context, perm auth.Permission) (*engine.Engine, string, auth.Role, error) {
	eng, err := engine.Open(ctx, c.dataDir, c.keyring)
	if err != nil {
		return nil, "", "", err
	}
	actor, role, err := c.signIn(ctx, eng, perm)
	if err != nil {
		eng.Close()
		return nil, "", "", err
	}
	return eng, actor, role, nil
}

func (c *cmdCtx) signIn(ctx context.Context, eng *engine.Engine, perm auth.Permission) (string, auth.Role, error) {
	required, err := eng.CLISignInRequired(ctx)
	if err != nil {
		return "", "", err
	}
	if !required {
		return audit.OSActor(osUser()), "", nil
	}
	if os.Getenv(StaffEnv) == "" {
		return "", "", fmt.Errorf("an administrator requires a staff sign-in for tsunagu-cli: set %s to your login and enter your password", StaffEnv)
	}
	svc, ss, _, err := c.staffSignIn(ctx, eng, "Password for ")
	if err != nil {
		return "", "", err
	}
	st := ss.Staff()
	if perm == "" {
		return st.Actor(), st.Role, nil
	}
	// The window's guard: an administrator-set password must be replaced
	// first, and a refusal is audited.
	if _, err := svc.Authorize(ctx, ss, perm); err != nil {
		switch {
		case errors.Is(err, auth.ErrPasswordChange):
			return "", "", fmt.Errorf("staff %s must choose their own password first: tsunagu-cli staff password (or sign in to the Tsunagu window once)", st.Login)
		case errors.Is(err, auth.ErrForbidden):
			return "", "", fmt.Errorf("staff %s (%s) may not do this", st.Login, st.Role)
		}
		return "", "", err
	}
	return st.Actor(), st.Role, nil
}

// staffSignIn signs in the staff member named by TSUNAGU_STAFF with the
// password typed after prompt: the one way the CLI checks a staff password.
// It returns the password too, for a command that needs it again (changing
// it).
func (c *cmdCtx) staffSignIn(ctx context.Context, eng *engine.Engine, prompt string) (*auth.Service, *auth.Session, string, error) {
	login := os.Getenv(StaffEnv)
	if login == "" {
		return nil, nil, "", fmt.Errorf("set %s to your login", StaffEnv)
	}
	pw, err := c.readSecretLine(prompt + login + ": ")
	if err != nil {
		return nil, nil, "", err
	}
	svc, err := eng.Auth()
	if err != nil {
		return nil, nil, "", err
	}
	ss, err := svc.SignIn(ctx, login, pw)
	if err != nil {
		return nil, nil, "", err
	}
	return svc, ss, pw, nil
}

func osUser() string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username
	}
	return "unknown"
}

// lines is shared by the prompts of one invocation: a bufio.Reader must
// not be recreated between lines or it loses buffered input.
func (c *cmdCtx) lines() *bufio.Reader {
	if c.stdinReader == nil {
		c.stdinReader = bufio.NewReader(io.LimitReader(c.stdin, 64<<10))
	}
	return c.stdinReader
}

// terminal is standard input if it is a terminal.
func (c *cmdCtx) terminal() (*os.File, bool) {
	f, ok := c.stdin.(*os.File)
	return f, ok && term.IsTerminal(int(f.Fd()))
}

func (c *cmdCtx) readLine(prompt string) (string, error) {
	if _, ok := c.terminal(); ok {
		fmt.Fprint(c.stderr, prompt)
	}
	l, err := c.lines().ReadString('\n')
	if err != nil && !(errors.Is(err, io.EOF) && l != "") {
		return "", fmt.Errorf("read %s from standard input: %w", strings.TrimSuffix(prompt, ": "), err)
	}
	return strings.TrimSpace(l), nil
}

// readSecretLine prompts without echo on a terminal, or reads one line of
// standard input.
func (c *cmdCtx) readSecretLine(prompt string) (string, error) {
	if f, ok := c.terminal(); ok {
		fmt.Fprint(c.stderr, prompt)
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(c.stderr)
		if err != nil {
			return "", fmt.Errorf("read %s: %w", strings.TrimSuffix(prompt, ": "), err)
		}
		return strings.TrimSpace(string(b)), nil
	}
	return c.readLine(prompt)
}

// recoveryCode asks for the recovery code (backups, recovery restore).
func (c *cmdCtx) recoveryCode() (string, error) { return c.readSecretLine("Recovery code: ") }
