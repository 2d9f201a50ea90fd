package engine

import (
	"context"

	"tsunagu/internal/campaign"
	"tsunagu/internal/inbox"
	"tsunagu/internal/linking"
	"tsunagu/internal/sms"
)

// Linking is the linking service: link codes, manual links, settings. It
// holds no state of its own (everything is in the DB), so a fresh value per
// call is as good as a kept one.
func (e *Engine) Linking() *linking.Service {
	cfg := linking.Config{DB: e.db, Clock: e.clock, Notifier: e.linkNotifier(), Channels: e.linkChannels}
	if e.client != nil {
		cfg.Account = e.client // the basic ID for the letter's QR code
	}
	svc, _ := linking.New(cfg) // fails only without a DB, which an Engine always has
	return svc
}

// linkingHook redeems link codes sent in the chat; it comes first in
// inboxHooks, so a consumed code reaches no other hook.
func (e *Engine) linkingHook() inbox.Hook { return e.Linking().Hook() }

// linkNotifier sends link codes by email and SMS through the campaign
// feature's one-off notifier (idempotent by key); nil if there is none.
func (e *Engine) linkNotifier() linking.CodeNotifier {
	if n := e.Notifier(); n != nil {
		return n
	}
	return nil
}

// linkChannels reports which of email and SMS an administrator has set up.
func (e *Engine) linkChannels(ctx context.Context) (email, text bool) {
	if _, ok, err := campaign.LoadMailSettings(ctx, e.db); err == nil && ok {
		email = true
	}
	if s, ok, err := campaign.LoadSMSSettings(ctx, e.db); err == nil && ok && s.Provider != sms.ProviderNone {
		text = true
	}
	return email, text
}
