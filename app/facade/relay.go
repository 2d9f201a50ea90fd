package facade

// ChannelService, the webhook relay. Enrolling, disconnecting and setting
// the webhook URL audit themselves in the engine (the CLI does the same).

import (
	"context"

	"tsunagu/internal/auth"
	"tsunagu/internal/engine"
)

// RelayStatus is the webhook relay's enrollment and connection: connected,
// reconnecting, the last event's time, the queue lag, and how many bodies
// were dropped for a bad LINE signature.
func (s *ChannelService) RelayStatus() (engine.RelayStatus, error) {
	return call(s.a, auth.PermChannel, func(_ context.Context, _ auth.Staff, eng *engine.Engine) (engine.RelayStatus, error) {
		return eng.RelayStatus(), nil
	})
}

// RelayEnroll enrolls this office with a webhook relay using the code its
// operator gave (`tsunagu-relay tenant add`). New keys go to the keychain;
// the relay learns only their public halves. The window never enrolls over
// plain HTTP (Options.RelayTransport: only the dev server allows loopback).
func (s *ChannelService) RelayEnroll(relayURL, code string) (engine.RelayStatus, error) {
	transport := s.a.opts.RelayTransport
	return call(s.a, auth.PermChannel, func(ctx context.Context, st auth.Staff, eng *engine.Engine) (engine.RelayStatus, error) {
		_, err := eng.RelayEnroll(ctx, st.Actor(), relayURL, code, transport)
		return eng.RelayStatus(), err
	})
}

// RelayDisconnect stops receiving through the relay and removes its keys.
func (s *ChannelService) RelayDisconnect() (engine.RelayStatus, error) {
	return call(s.a, auth.PermChannel, func(ctx context.Context, st auth.Staff, eng *engine.Engine) (engine.RelayStatus, error) {
		err := eng.RelayDisconnect(ctx, st.Actor())
		return eng.RelayStatus(), err
	})
}

// RelaySetWebhookOnLINE sets the channel's webhook URL on LINE to the
// relay's (LINE's set-webhook-endpoint API) and returns it.
func (s *ChannelService) RelaySetWebhookOnLINE() (string, error) {
	return call(s.a, auth.PermChannel, func(ctx context.Context, st auth.Staff, eng *engine.Engine) (string, error) {
		return eng.RelaySetWebhookOnLINE(ctx, st.Actor())
	})
}
