package auth

import "context"

// settingCLISignIn is the security setting of `tsunagu-cli staff
// require-signin`: whether the command line asks for a staff sign-in.
const settingCLISignIn = "cli_requires_signin"

// CLISignInRequired reports whether an administrator requires a staff
// sign-in for tsunagu-cli (off by default: the OS account is the actor).
func (s *Service) CLISignInRequired(ctx context.Context) (bool, error) {
	v, err := GetSetting(ctx, s.db.Reader(), settingCLISignIn)
	return v == "on", err
}

// SetCLISignIn switches the staff sign-in for tsunagu-cli; audited as a
// settings change under actor.
func (s *Service) SetCLISignIn(ctx context.Context, actor string, on bool) error {
	v := "off"
	if on {
		v = "on"
	}
	return SetSetting(ctx, s.db, actor, settingCLISignIn, v)
}
