package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"tsunagu/internal/auth"
	"tsunagu/internal/datadir"
	"tsunagu/internal/engine"
	"tsunagu/internal/recovery"
	"tsunagu/internal/secrets"
	"tsunagu/internal/store"
	"tsunagu/internal/version"
)

// The data folder: creating it, checking and re-keying its database, the
// LINE channel's credentials in the keychain, and the version.
func setupCommands() []command {
	return []command{
		{name: "init", short: "create the data folder, the DB key in the keychain and the encrypted DB (safe to run twice)", run: cmdInit},
		{name: "db verify", short: "check that the DB is encrypted, opens with the keychain key and passes integrity_check", run: cmdDBVerify},
		{name: "channel set", short: "store the LINE channel secret and access token (read from standard input) in the keychain", run: cmdChannelSet},
		{name: "channel show", short: "show whether a LINE channel is configured (the token masked)", run: cmdChannelShow},
		{name: "channel clear", short: "remove the LINE channel credentials (the app returns to sandbox mode)", run: cmdChannelClear},
		{name: "db rotate-key", short: "re-encrypt the DB under a new key (close the app first); prints a new recovery code", run: cmdRotateKey},
		{name: "version", short: "print the version, commit and build date", run: cmdVersion},
	}
}

func cmdInit(ctx context.Context, c *cmdCtx, _ []string) error {
	res, err := engine.Init(ctx, c.dataDir, c.keyring)
	if err != nil {
		return err
	}
	createdOr := func(created bool, yes, no string) string {
		if created {
			return yes
		}
		return no
	}
	return c.print(res, func(w io.Writer) {
		fmt.Fprintf(w, "data folder: %s\n", res.DataDir)
		fmt.Fprintf(w, "install ID:  %s\n", res.InstallID)
		fmt.Fprintf(w, "DB key:      %s\n", createdOr(res.CreatedKey, "created in the keychain", "already in the keychain"))
		fmt.Fprintf(w, "database:    %s\n", createdOr(res.CreatedDB, "created (encrypted)", "already exists, opens with the key"))
	})
}

func cmdDBVerify(ctx context.Context, c *cmdCtx, _ []string) error {
	sec, dir, err := c.secrets()
	if err != nil {
		return err
	}
	key, err := sec.DBKey(ctx)
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

// cmdRotateKey re-encrypts the DB under a new key (the app must be closed)
// and issues a new recovery code for it.
func cmdRotateKey(ctx context.Context, c *cmdCtx, _ []string) error {
	actor, err := c.checkAllowed(ctx, auth.PermSettings) // the rotation needs the database to itself
	if err != nil {
		return err
	}
	rot, err := engine.RotateKey(ctx, c.dataDir, c.keyring, actor, recovery.KDF{})
	if err != nil {
		return err
	}
	return c.print(map[string]string{"oldKeyId": rot.OldKeyID, "newKeyId": rot.NewKeyID, "recoveryCode": rot.RecoveryCode}, func(w io.Writer) {
		fmt.Fprintf(w, "database re-encrypted under a new key (%s → %s)\n", rot.OldKeyID, rot.NewKeyID)
		fmt.Fprintf(w, "new recovery code (the old one only opens older backups; print this one):\n\n    %s\n\n", rot.RecoveryCode)
	})
}

// cmdChannelSet reads the secret and the token from standard input (after
// the password, if a sign-in is required).
func cmdChannelSet(ctx context.Context, c *cmdCtx, _ []string) error {
	eng, actor, err := c.openAudited(ctx, auth.PermChannel)
	if err != nil {
		return err
	}
	defer eng.Close()
	secret, token, err := c.readChannel()
	if err != nil {
		return err
	}
	ch := secrets.Channel{Secret: secret, AccessToken: token}
	if err := eng.SetChannel(ctx, actor, ch); err != nil {
		return err
	}
	return c.print(map[string]any{"configured": true, "tokenHint": ch.TokenHint()}, func(w io.Writer) {
		fmt.Fprintf(w, "LINE channel saved in the keychain (token %s). The app leaves sandbox mode on its next start.\n", ch.TokenHint())
	})
}

func cmdChannelShow(ctx context.Context, c *cmdCtx, _ []string) error {
	sec, _, err := c.secrets()
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

func cmdChannelClear(ctx context.Context, c *cmdCtx, _ []string) error {
	eng, actor, err := c.openAudited(ctx, auth.PermChannel)
	if err != nil {
		return err
	}
	defer eng.Close()
	if err := eng.ClearChannel(ctx, actor); err != nil {
		return err
	}
	return c.print(map[string]any{"configured": false}, func(w io.Writer) {
		fmt.Fprintln(w, "LINE channel removed from the keychain: the app returns to sandbox mode")
	})
}

func cmdVersion(_ context.Context, c *cmdCtx, _ []string) error {
	info := version.Get() // internal/version, stamped by the Makefile
	return c.print(info, func(w io.Writer) { fmt.Fprintln(w, info) })
}

// secrets is the data folder's keychain items, for commands that do not
// open the database.
func (c *cmdCtx) secrets() (*secrets.Store, datadir.Dir, error) {
	dir, err := datadir.Existing(c.dataDir)
	if err != nil {
		return nil, dir, fmt.Errorf("%w (run `tsunagu-cli init` first)", err)
	}
	id, err := dir.ReadInstallID()
	if err != nil {
		return nil, dir, fmt.Errorf("%w (run `tsunagu-cli init` first)", err)
	}
	return secrets.New(c.keyring, id), dir, nil
}

// readChannel reads the secret and the token: prompted without echo on a
// terminal, else the two (non-empty) lines left on standard input.
func (c *cmdCtx) readChannel() (secret, token string, err error) {
	if _, ok := c.terminal(); ok {
		if secret, err = c.readSecretLine("Channel secret: "); err != nil {
			return "", "", err
		}
		token, err = c.readSecretLine("Channel access token: ")
		return secret, token, err
	}
	rest, err := io.ReadAll(c.lines())
	if err != nil {
		return "", "", fmt.Errorf("read standard input: %w", err)
	}
	var lines []string
	for _, l := range strings.Split(string(rest), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			lines = append(lines, l)
		}
	}
	if len(lines) != 2 {
		return "", "", fmt.Errorf("expected 2 lines on standard input (channel secret, then access token), got %d", len(lines))
	}
	return lines[0], lines[1], nil
}
