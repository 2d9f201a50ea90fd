package engine

import (
	"context"
	"sync"

	"tsunagu/internal/auth"
	"tsunagu/internal/customer"
	"tsunagu/internal/drafts"
)

// authParts builds the staff service once per engine, on first use: its
// constructor hashes a dummy password, which commands that never sign
// anyone in should not pay for.
type authParts struct {
	once   sync.Once
	svc    *auth.Service
	err    error
	params auth.Params // Options.AuthParams; zero: auth.DefaultParams
}

// Auth is the staff, session and role service of this data folder: the
// window and the CLI sign people in through the same one.
func (e *Engine) Auth() (*auth.Service, error) {
	e.authp.once.Do(func() {
		e.authp.svc, e.authp.err = auth.New(auth.Config{DB: e.db, Clock: e.now, Params: e.authp.params})
	})
	return e.authp.svc, e.authp.err
}

// Customers is the customer service of this data folder.
func (e *Engine) Customers() *customer.Service { return e.customers }

// Drafts keeps each staff member's unsent work (replies, unsaved editors).
func (e *Engine) Drafts() *drafts.Service { return e.drafts }

// CLISignInRequired: whether tsunagu-cli asks for a staff sign-in
// (auth.CLISignInRequired; no auth service is built for it).
func (e *Engine) CLISignInRequired(ctx context.Context) (bool, error) {
	return auth.CLISignInRequired(ctx, e.db)
}

// SetCLISignIn switches tsunagu-cli's staff sign-in; audited under actor.
func (e *Engine) SetCLISignIn(ctx context.Context, actor string, on bool) error {
	return auth.SetCLISignIn(ctx, e.db, actor, on)
}
