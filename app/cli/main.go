// Command tsunagu-cli is Tsunagu without a window: the same engine as the
// desktop app, for scripting, scheduled jobs and checks. It links neither
// Wails nor GTK.
//
// Every command takes --data-dir (default: $TSUNAGU_DATA_DIR or the per-user
// folder) and --json anywhere on the line, answers --help, prints
// human-readable output by default, and exits non-zero with a clear message
// on error. The command line is parsed by cobra (newRoot), built from the
// commands table below; the README's command table is generated from it.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"tsunagu/internal/audit"
	"tsunagu/internal/auth"
	"tsunagu/internal/datadir"
	"tsunagu/internal/engine"
	"tsunagu/internal/secrets"
	"tsunagu/internal/store"
	"tsunagu/internal/version"
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

type command struct {
	name, summary string
	run           func(ctx context.Context, c *cmdCtx) error
}

var commands = []command{
	{"init", "create the data folder, the DB key in the keychain and the encrypted DB (safe to run twice)", cmdInit},
	{"db verify", "check that the DB is encrypted, opens with the keychain key and passes integrity_check", cmdDBVerify},
	{"channel set", "store the LINE channel secret and access token (read from standard input) in the keychain", cmdChannelSet},
	{"channel show", "show whether a LINE channel is configured (the token masked)", cmdChannelShow},
	{"channel clear", "remove the LINE channel credentials (the app returns to sandbox mode)", cmdChannelClear},
	{"inbox list", "list conversations with unread counts", cmdInboxList},
	{"line requests", "show the LINE request log (time, endpoint, status, request ID; no messages or tokens) [--since DUR] [--limit N]", cmdLineRequests},
	{"audit verify", "check the audit trail's hash chain; names the first broken entry", cmdAuditVerify},
	{"audit export", "write the audit trail as CSV to standard output, oldest first, all of it or [--from DATE] [--to DATE]; the count goes to standard error (for auditors)", cmdAuditExport},
	{"staff list", "list staff accounts", cmdStaffList},
	{"staff add", "add a staff account: LOGIN ROLE (display name and password on standard input)", cmdStaffAdd},
	{"staff deactivate", "end a staff member's access at once: LOGIN (their history stays)", cmdStaffDeactivate},
	{"staff reactivate", "let a deactivated staff member sign in again: LOGIN", cmdStaffReactivate},
	{"staff require-signin", "on|off: require a staff sign-in (TSUNAGU_STAFF + password) for tsunagu-cli", cmdStaffRequireSignin},
	{"backup create", "DIR: write an encrypted, verified backup into DIR (e.g. a NAS folder) and prune old ones", cmdBackupCreate},
	{"backup verify", "FILE: check a backup against its manifest and its key", cmdBackupVerify},
	{"backup restore", "FILE: restore a backup into a new --data-dir (recovery code on standard input if the key is not in this keychain)", cmdBackupRestore},
	{"recovery create", "issue a new recovery code for the DB key (printed once)", cmdRecoveryCreate},
	{"recovery restore", "put the DB key back into the keychain from the recovery code (read from standard input)", cmdRecoveryRestore},
	{"db rotate-key", "re-encrypt the DB under a new key (close the app first); prints a new recovery code", cmdRotateKey},
	{"erase conversation", "ID: delete a LINE user's conversation, messages and media on request (APPI)", cmdEraseConversation},
	{"erase customer", "NUMBER: delete a customer's record and their LINE conversation, messages and media on request (APPI)", cmdEraseCustomer},
	{"import", "import customers (or --kind contracts) from a CSV file: FILE [--kind customers|contracts] [--profile NAME | --auto] [--dry-run] [--encoding auto|utf-8|sjis|euc-jp] [--report FILE] [--missing keep|inactivate]; exit 3 if rows were rejected", cmdImport},
	{"export customers", "write all customers as CSV: FILE [--encoding utf-8-bom|sjis]", cmdExportCustomers},
	{"customers list", "list customers [--query TEXT] [--branch B] [--status active|inactive]", cmdCustomersList},
	{"campaign list", "list campaigns (status, channels, author, approver)", cmdCampaignList},
	{"campaign show", "ID: show a campaign and its channel plan", cmdCampaignShow},
	{"campaign report", "ID: show a campaign's delivery report (sent per channel, skipped by reason, failures)", cmdCampaignReport},
	{"campaign resume", "ID: continue sending a campaign left sending by a crash (close the app first); email/SMS interrupted mid-send are reported, not resent", cmdCampaignResume},
	{"relay enroll", "--relay URL: enroll this data folder with a webhook relay (the code from standard input, or --code)", cmdRelayEnroll},
	{"relay status", "show the webhook relay enrollment", cmdRelayStatus},
	{"relay disconnect", "stop using the webhook relay and remove its keys from the keychain", cmdRelayDisconnect},
	{"relay set-webhook", "set the channel's webhook URL on LINE to the relay's", cmdRelaySetWebhook},
	{"sync", "receive webhooks from the relay, verify and store them until Ctrl-C; --once: store what is queued and exit", cmdSync},
	{"deadletters list", "list webhook events the inbox could not store (kind, reason; never their text)", cmdDeadLettersList},
	{"deadletters retry", "ID|all: process dead letters again (after an update fixed the cause)", cmdDeadLettersRetry},
	{"deadletters discard", "ID: close a dead letter without storing it", cmdDeadLettersDiscard},
	{"version", "print the version, commit and build date", cmdVersion},
	{"update keygen", "for IT: create the Ed25519 key pair that signs update manifests --out DIR", cmdUpdateKeygen},
	{"update sign-manifest", "for IT: write and sign manifest.json for an installer --key F --installer F --version V [--notes-ja T --notes-en T --min-version V]", cmdUpdateSignManifest},
	{"update check", "for IT: verify a published update location as the app would --location L --public-key K", cmdUpdateCheck},
}

// run executes one command line and returns the exit code: 0 done (and
// --help), 2 a usage error (unknown command or flag, wrong number of
// arguments), otherwise the command's own (exitCode).
func run(ctx context.Context, args []string, e env) int {
	c := &cmdCtx{env: e}
	root := newRoot(ctx, c)
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
		return 2
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

// newRoot builds the command tree from the commands table: global flags
// anywhere on the line, --help on every command and group, argument counts
// checked, shell completion (bash, zsh, fish, PowerShell) included.
func newRoot(ctx context.Context, c *cmdCtx) *cobra.Command {
	root := &cobra.Command{
		Use:           "tsunagu-cli",
		Short:         "Tsunagu without a window: the same engine as the desktop app, for scripts, scheduled jobs and checks",
		SilenceErrors: true,
		SilenceUsage:  true,
	}
	def, _ := datadir.Default()
	root.PersistentFlags().StringVar(&c.dataDir, "data-dir", def, "data folder (or $"+datadir.EnvVar+")")
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
	for i := range commands {
		cmdDef := &commands[i]
		words := strings.Fields(cmdDef.name)
		n := positionalArgs(cmdDef.name)
		leaf := &cobra.Command{
			Use:   words[len(words)-1] + strings.Repeat(" ARG", n),
			Short: cmdDef.summary,
			Args:  cobra.ExactArgs(n),
		}
		fs := flag.NewFlagSet(cmdDef.name, flag.ContinueOnError)
		flags := commandFlags(cmdDef.name, fs)
		leaf.Flags().AddGoFlagSet(fs)
		leaf.RunE = func(_ *cobra.Command, args []string) error {
			c.args, c.flags = args, flags
			if c.keyring == nil {
				c.keyring = secrets.OSKeyring()
			}
			if err := cmdDef.run(ctx, c); err != nil {
				return commandError{cmdDef.name, err}
			}
			return nil
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
}

type cmdCtx struct {
	env
	dataDir string
	json    bool
	args    []string // positional arguments (see positionalArgs)
	flags   any      // a command's own flags (see commandFlags)

	stdinReader *bufio.Reader // shared by the prompts of security.go
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

func cmdInit(ctx context.Context, c *cmdCtx) error {
	res, err := engine.Init(ctx, c.dataDir, c.keyring)
	if err != nil {
		return err
	}
	return c.print(res, func(w io.Writer) {
		fmt.Fprintf(w, "data folder: %s\n", res.DataDir)
		fmt.Fprintf(w, "install ID:  %s\n", res.InstallID)
		fmt.Fprintf(w, "DB key:      %s\n", createdOr(res.CreatedKey, "created in the keychain", "already in the keychain"))
		fmt.Fprintf(w, "database:    %s\n", createdOr(res.CreatedDB, "created (encrypted)", "already exists, opens with the key"))
	})
}

func cmdDBVerify(ctx context.Context, c *cmdCtx) error {
	dir, err := datadir.Existing(c.dataDir)
	if err != nil {
		return err
	}
	id, err := dir.ReadInstallID()
	if err != nil {
		return err
	}
	key, err := secrets.New(c.keyring, id).DBKey(ctx)
	if err != nil {
		return err
	}
	defer clear(key)
	rep, verr := store.Verify(ctx, dir.DBPath(), key)
	if perr := c.print(rep, func(w io.Writer) {
		fmt.Fprintf(w, "file:        %s (%d bytes)\n", rep.Path, rep.SizeBytes)
		fmt.Fprintf(w, "encrypted:   %s\n", yesNo(rep.Encrypted))
		fmt.Fprintf(w, "opens:       %s\n", yesNo(rep.OpensWithKey))
		fmt.Fprintf(w, "integrity:   %s\n", rep.Integrity)
		fmt.Fprintf(w, "schema:      version %d\n", rep.SchemaVersion)
		if rep.PendingWALBytes > 0 {
			fmt.Fprintf(w, "WAL:         %d bytes left by a session that did not close (e.g. a crash): checked with the database, not changed; Tsunagu writes them into the database when it next opens it\n", rep.PendingWALBytes)
		}
	}); perr != nil {
		return perr
	}
	if verr != nil {
		return verr
	}
	if !rep.Encrypted || !rep.OpensWithKey || rep.Integrity != "ok" {
		return errors.New("the database did not pass verification")
	}
	return nil
}

func cmdChannelSet(ctx context.Context, c *cmdCtx) error {
	sec, err := c.secrets()
	if err != nil {
		return err
	}
	audited, err := c.auditedChange(ctx, auth.PermChannel) // security.go
	if err != nil {
		return err
	}
	defer audited.Close()
	secret, token, err := readChannel(c)
	if err != nil {
		return err
	}
	ch := secrets.Channel{Secret: secret, AccessToken: token}
	if err := sec.SetChannel(ctx, ch); err != nil {
		return err
	}
	if err := audited.Record(ctx, audit.ActionChannelSet); err != nil {
		return err
	}
	return c.print(map[string]any{"configured": true, "tokenHint": ch.TokenHint()}, func(w io.Writer) {
		fmt.Fprintf(w, "LINE channel saved in the keychain (token %s). The app leaves sandbox mode on its next start.\n", ch.TokenHint())
	})
}

func cmdChannelShow(ctx context.Context, c *cmdCtx) error {
	sec, err := c.secrets()
	if err != nil {
		return err
	}
	ch, err := sec.Channel(ctx)
	configured := err == nil
	if err != nil && !errors.Is(err, secrets.ErrNotFound) {
		return err
	}
	hint := ""
	if configured {
		hint = ch.TokenHint()
	}
	return c.print(map[string]any{"configured": configured, "tokenHint": hint}, func(w io.Writer) {
		if configured {
			fmt.Fprintf(w, "LINE channel configured (token %s)\n", hint)
		} else {
			fmt.Fprintln(w, "no LINE channel configured: the app runs in sandbox mode")
		}
	})
}

func cmdChannelClear(ctx context.Context, c *cmdCtx) error {
	sec, err := c.secrets()
	if err != nil {
		return err
	}
	audited, err := c.auditedChange(ctx, auth.PermChannel) // security.go
	if err != nil {
		return err
	}
	defer audited.Close()
	if err := sec.DeleteChannel(ctx); err != nil {
		return err
	}
	if err := audited.Record(ctx, audit.ActionChannelClear); err != nil {
		return err
	}
	return c.print(map[string]any{"configured": false}, func(w io.Writer) {
		fmt.Fprintln(w, "LINE channel removed from the keychain: the app returns to sandbox mode")
	})
}

func cmdInboxList(ctx context.Context, c *cmdCtx) error {
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

func cmdVersion(_ context.Context, c *cmdCtx) error {
	info := version.Get() // internal/version, stamped by the Makefile
	return c.print(info, func(w io.Writer) { fmt.Fprintln(w, info) })
}

// --- helpers ---

func (c *cmdCtx) secrets() (*secrets.Store, error) {
	dir, err := datadir.Existing(c.dataDir)
	if err != nil {
		return nil, fmt.Errorf("%w (run `tsunagu-cli init` first)", err)
	}
	id, err := dir.ReadInstallID()
	if err != nil {
		return nil, fmt.Errorf("%w (run `tsunagu-cli init` first)", err)
	}
	return secrets.New(c.keyring, id), nil
}

// readChannel reads the secret and the token, one per line, from standard
// input: never from arguments, which other users can see in the process list.
// On a terminal it prompts without echo.
func readChannel(c *cmdCtx) (secret, token string, err error) {
	if f, ok := c.stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		secret, err = promptHidden(c.stderr, f, "Channel secret: ")
		if err != nil {
			return "", "", err
		}
		token, err = promptHidden(c.stderr, f, "Channel access token: ")
		return secret, token, err
	}
	sc := bufio.NewScanner(io.LimitReader(c.stdinSource(), 64<<10))
	sc.Buffer(make([]byte, 0, 4096), 64<<10)
	var lines []string
	for sc.Scan() {
		if l := strings.TrimSpace(sc.Text()); l != "" {
			lines = append(lines, l)
		}
	}
	if err := sc.Err(); err != nil {
		return "", "", fmt.Errorf("read standard input: %w", err)
	}
	if len(lines) != 2 {
		return "", "", fmt.Errorf("expected 2 lines on standard input (channel secret, then access token), got %d", len(lines))
	}
	return lines[0], lines[1], nil
}

func promptHidden(w io.Writer, f *os.File, prompt string) (string, error) {
	fmt.Fprint(w, prompt)
	b, err := term.ReadPassword(int(f.Fd()))
	fmt.Fprintln(w)
	if err != nil {
		return "", fmt.Errorf("read %s: %w", strings.TrimSuffix(prompt, ": "), err)
	}
	return strings.TrimSpace(string(b)), nil
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

func createdOr(created bool, yes, no string) string {
	if created {
		return yes
	}
	return no
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
