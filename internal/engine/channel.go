package engine

import (
	"context"

	"tsunagu/internal/audit"
	"tsunagu/internal/secrets"
)

// SetChannel stores the LINE channel's credentials in the keychain; audited
// (channel.set) in the name of actor. A running engine keeps its LINE side
// until it is started again (the window restarts it, the CLI starts afresh).
func (e *Engine) SetChannel(ctx context.Context, actor string, ch secrets.Channel) error {
	if err := e.secrets.SetChannel(ctx, ch); err != nil {
		return err
	}
	return e.recordChange(ctx, actor, audit.ActionChannelSet, "", nil)
}

// ClearChannel removes the channel's credentials (sandbox mode from the next
// start); audited (channel.clear) in the name of actor.
func (e *Engine) ClearChannel(ctx context.Context, actor string) error {
	if err := e.secrets.DeleteChannel(ctx); err != nil {
		return err
	}
	return e.recordChange(ctx, actor, audit.ActionChannelClear, "", nil)
}

// recordChange audits a change this engine made outside the database
// (keychain, files, the relay, LINE) by the one rule of audit.RecordChange:
// recorded right after the change; if that fails, the call fails too.
func (e *Engine) recordChange(ctx context.Context, actor, action, target string, detail map[string]string) error {
	return audit.RecordChange(ctx, e.db, audit.Entry{At: e.now().UnixMilli(), Actor: actor, Action: action, Target: target, Detail: detail})
}
