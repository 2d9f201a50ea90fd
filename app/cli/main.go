// Command tsunagu-cli is Tsunagu without a window: the same engine as the
// desktop app, for scripting, scheduled jobs and checks. It links neither
// Wails nor GTK.
//
// Every command takes --data-dir (default: $TSUNAGU_DATA_DIR or the per-user
// folder) and --json anywhere on the line, answers --help, prints
// human-readable output by default, and exits non-zero with a clear message
// on error. Each command is one definition (a command value: words,
// arguments, help, flags, run) in the file of its concern; cobra parses the
// line (newRoot), and the README's command table is generated from the same
// definitions. A command is an adapter: the rules are in internal/.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"tsunagu/internal/datadir"
	"tsunagu/internal/engine"
	"tsunagu/internal/secrets"
	"tsunagu/internal/store"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], env{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr}))
}

// env is the outside world of one invocation; tests supply their own.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	keyring        secrets.Keyring  // nil: the OS keychain
	clock          func() time.Time // nil: time.Now; tests move time on
}

// command is one tsunagu-cli command, defined once.
type command struct {
	name  string // its words, e.g. "backup create"
	args  string // its positional arguments, e.g. "DIR" (each word one argument)
	short string // one line of help; also the README's
	// flags registers the command's own flags (nil: none) into variables
	// its run reads; a fresh set per invocation (see commands).
	flags func(cmd *cobra.Command)
	run   func(ctx context.Context, c *cmdCtx, args []string) error
}

// commands is every command, in the order of --help's groups and the
// README. The definitions are made anew for each invocation, so the
// variables their flags fill are never shared.
func commands() []command {
	return slices.Concat(
		setupCommands(),    // setup.go: init, db, channel, version
		inboxCommands(),    // inbox.go: inbox, dead letters
		lineLogCommands(),  // linelog.go
		auditCommands(),    // audit.go
		staffCommands(),    // staff.go
		backupCommands(),   // backup.go: backups, recovery code, key rotation
		eraseCommands(),    // erase.go
		customerCommands(), // customers.go: import, export, list
		campaignCommands(), // campaign.go
		relayCommands(),    // relay.go: relay, sync
		updateCommands(),   // update.go
		seatCommands(),     // seat.go: branch seats
		formCommands(),     // forms.go: web forms
	)
}

// groupSummaries describe the command groups in --help.
var groupSummaries = map[string]string{
	"db":          "the encrypted database: verify, rotate its key",
	"channel":     "the LINE channel's credentials in the keychain",
	"inbox":       "conversations",
	"line":        "the LINE request log",
	"audit":       "the audit trail: verify, export",
	"staff":       "staff accounts",
	"backup":      "encrypted backups",
	"recovery":    "the recovery code of the database key",
	"erase":       "deletion on request (APPI)",
	"export":      "CSV export",
	"customers":   "customers",
	"campaign":    "campaigns and their reports",
	"relay":       "the webhook relay",
	"deadletters": "webhook events the inbox could not store",
	"update":      "publishing and checking updates (for IT)",
	"seat":        "branch seats: other PCs working on this primary's data over the LAN",
	"forms":       "web forms answered inside LINE",
}

// Exit codes. Scripts rely on them (see customers.go for import's).
const (
	exitUsage     = 2 // unknown command or flag, wrong arguments: nothing was done
	exitRejected  = 3 // import: some rows were rejected
	exitCancelled = 4 // import: cancelled, nothing was written
	// exitBusy: `sync` found another receiver for this data folder
	// (another `sync`, or the app) and did nothing. Distinct from 1 so that
	// a scheduled `sync --once` can treat it as "already being done".
	exitBusy = 5
)

// run executes one command line and returns the exit code: 0 done (and
// --help), 2 a usage error, otherwise the command's own (exitCode).
func run(ctx context.Context, args []string, e env) int {
	c := &cmdCtx{env: e}
	root := newRoot(ctx, c, commands())
	root.SetArgs(args)
	root.SetIn(e.stdin)
	root.SetOut(e.stdout)
	root.SetErr(e.stderr)
	err := root.ExecuteContext(ctx)
	var fail commandError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &fail):
		fmt.Fprintf(e.stderr, "tsunagu-cli %s: %s\n", fail.name, explain(fail.err))
		return exitCode(fail.err)
	default:
		// Cobra's own: an unknown command or flag, a wrong count of
		// arguments.
		fmt.Fprintf(e.stderr, "tsunagu-cli: %s\n  See `tsunagu-cli --help`.\n", err)
		return exitUsage
	}
}

// commandError is the failure of a command that ran (as opposed to one
// that could not be parsed).
type commandError struct {
	name string
	err  error
}

func (e commandError) Error() string { return e.err.Error() }
func (e commandError) Unwrap() error { return e.err }

// exitError carries an exit code other than 1 out of a command.
type exitError struct {
	code int
	err  error
}

func (e exitError) Error() string { return e.err.Error() }
func (e exitError) Unwrap() error { return e.err }

// usageError is a command's own usage error (exit 2).
func usageError(err error) error { return exitError{exitUsage, err} }

// exitCode is the process exit code for a command's error.
func exitCode(err error) int {
	var ee exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	return 1
}

// newRoot builds the command tree: global flags anywhere on the line,
// --help on every command and group, argument counts checked, shell
// completion (bash, zsh, fish, PowerShell) included.
func newRoot(ctx context.Context, c *cmdCtx, cmds []command) *cobra.Command {
	root := &cobra.Command{
		Use:           "tsunagu-cli",
		Short:         "Tsunagu without a window: the same engine as the desktop app, for scripts, scheduled jobs and checks",
		SilenceErrors: true,
		SilenceUsage:  true,
	}
	defaultDir, _ := datadir.Default()
	root.PersistentFlags().StringVar(&c.dataDir, "data-dir", defaultDir, "data folder (or $"+datadir.EnvVar+")")
	root.PersistentFlags().BoolVar(&c.json, "json", false, "print JSON")
	groups := map[string]*cobra.Command{"": root}
	var group func(path []string) *cobra.Command
	group = func(path []string) *cobra.Command {
		key := strings.Join(path, " ")
		if g, ok := groups[key]; ok {
			return g
		}
		g := &cobra.Command{
			Use:   path[len(path)-1],
			Short: groupSummaries[key],
			Args:  cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				return fmt.Errorf("%q needs a subcommand: %s", key, strings.Join(subcommandNames(cmd), ", "))
			},
		}
		group(path[:len(path)-1]).AddCommand(g)
		groups[key] = g
		return g
	}
	for _, def := range cmds {
		words := strings.Fields(def.name)
		leaf := &cobra.Command{
			Use:   strings.TrimSpace(words[len(words)-1] + " " + def.args),
			Short: def.short,
			Args:  cobra.ExactArgs(len(strings.Fields(def.args))),
			RunE: func(_ *cobra.Command, args []string) error {
				if c.keyring == nil {
					c.keyring = secrets.OSKeyring()
				}
				if err := def.run(ctx, c, args); err != nil {
					return commandError{def.name, err}
				}
				return nil
			},
		}
		if def.flags != nil {
			def.flags(leaf)
		}
		group(words[:len(words)-1]).AddCommand(leaf)
	}
	return root
}

func subcommandNames(cmd *cobra.Command) []string {
	var out []string
	for _, s := range cmd.Commands() {
		if s.IsAvailableCommand() {
			out = append(out, s.Name())
		}
	}
	return out
}

// cmdCtx is one invocation: its world, the global flags, and the prompts'
// reader (session.go).
type cmdCtx struct {
	env
	dataDir string
	json    bool

	stdinReader *bufio.Reader // shared by the prompts (session.go)
}

// print writes v as JSON with --json, or calls human otherwise.
func (c *cmdCtx) print(v any, human func(w io.Writer)) error {
	if c.json {
		enc := json.NewEncoder(c.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	}
	human(c.stdout)
	return nil
}

// explain turns an error into a message for the person at the terminal.
func explain(err error) string {
	switch {
	case errors.Is(err, engine.ErrKeyMissing):
		return err.Error() + "\n  The database can only be opened on the computer and OS account whose keychain holds its key. Restore the key with the recovery code (`tsunagu-cli recovery restore`), or use the original account. Without the key and the code the database cannot be opened."
	case errors.Is(err, store.ErrWrongKey):
		return err.Error() + "\n  The key in the keychain does not open this database. The file was not changed."
	case errors.Is(err, store.ErrPlaintext):
		return err.Error() + "\n  Tsunagu refuses unencrypted customer databases. The file was not changed."
	case errors.Is(err, secrets.ErrLocked):
		return err.Error() + "\n  Unlock your keychain (log in to the desktop session) and try again."
	}
	return err.Error()
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
