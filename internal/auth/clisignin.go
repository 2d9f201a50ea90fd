package auth

import (
	"context"

	"tsunagu/internal/store"
)

// settingCLISignIn is the security setting of `tsunagu-cli staff
// require-signin`: whether the command line asks for a staff sign-in.
const settingCLISignIn = "cli_requires_signin"

// CLISignInRequired reports whether an administrator requires a staff
// sign-in for tsunagu-cli (off by default: the OS account is the actor).
// A function of the DB rather than of Service: every CLI command asks, and
// building a Service costs a password hash (64 MiB of argon2id).
func CLISignInRequired(ctx context.Context, db *store.DB) (bool, error) {
	v, err := GetSetting(ctx, db.Reader(), settingCLISignIn)
	return v == "on", err
}

// SetCLISignIn switches the staff sign-in for tsunagu-cli; audited as a
// settings change under actor.
func SetCLISignIn(ctx context.Context, db *store.DB, actor string, on bool) error {
	v := "off"
	if on {
		v = "on"
	}
	return SetSetting(ctx, db, actor, settingCLISignIn, v)
}
