package engine

import (
	"context"
	"errors"

	"tsunagu/internal/campaign"
	"tsunagu/internal/importer"
	"tsunagu/internal/inbox"
	"tsunagu/internal/line"
	"tsunagu/internal/linking"
	"tsunagu/internal/sms"
)

// featureParts are the customer-side services built once in Open, for the
// CLI and the window alike.
type featureParts struct {
	imports *importer.Runner
	link    *linking.Service
}

// openFeatures builds them over the open DB. What only Start provides (the
// LINE client, the notifier with the engine's clock) they reach through
// the engine when they need it, so the one service serves both.
func (e *Engine) openFeatures() {
	e.feat.imports = importer.NewRunner(e.db, e.now)
	// linking.New fails only without a DB, which Open has.
	e.feat.link, _ = linking.New(linking.Config{DB: e.db, Clock: e.now, Notifier: linkNotifier{e}, Account: lineAccount{e},
		Channels: e.linkChannels})
}

// Linking is the linking service: link codes, manual links, settings.
func (e *Engine) Linking() *linking.Service { return e.feat.link }

// linkingHook redeems link codes sent in the chat; it comes first in
// inboxHooks, so a consumed code reaches no other hook.
func (e *Engine) linkingHook() inbox.Hook { return e.feat.link.Hook() }

// linkNotifier sends link codes by email and SMS through the campaign
// feature's one-off notifier (idempotent by key), the one Start rebuilt
// with the engine's clock.
type linkNotifier struct{ e *Engine }

func (n linkNotifier) SendEmail(ctx context.Context, to, subject, text, key string) error {
	return n.e.Notifier().SendEmail(ctx, to, subject, text, key)
}

func (n linkNotifier) SendSMS(ctx context.Context, to, text, key string) error {
	return n.e.Notifier().SendSMS(ctx, to, text, key)
}

// errNoLine: an engine opened without LINE (the CLI) has no basic ID for
// a letter's QR code; the letter prints without it.
var errNoLine = errors.New("engine: opened without LINE")

// lineAccount asks the LINE client Start made for the basic ID.
type lineAccount struct{ e *Engine }

func (a lineAccount) BotInfo(ctx context.Context) (line.BotInfo, error) {
	if a.e.client == nil {
		return line.BotInfo{}, errNoLine
	}
	return a.e.client.BotInfo(ctx)
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
