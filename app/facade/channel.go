package facade

// ChannelService: the LINE channel's credentials and settings, and the
// webhook relay (relay.go).

import (
	"context"

	"tsunagu/internal/auth"
	"tsunagu/internal/engine"
	"tsunagu/internal/secrets"
)

// SaveChannel stores real channel credentials in the keychain and restarts
// the engine against LINE, leaving sandbox mode.
func (s *ChannelService) SaveChannel(secret, accessToken string) (Status, error) {
	return s.changeChannel(func(ctx context.Context, st auth.Staff, eng *engine.Engine) error {
		return eng.SetChannel(ctx, st.Actor(), secrets.Channel{Secret: secret, AccessToken: accessToken})
	})
}

// ClearChannel removes the channel credentials and returns to sandbox mode.
func (s *ChannelService) ClearChannel() (Status, error) {
	return s.changeChannel(func(ctx context.Context, st auth.Staff, eng *engine.Engine) error {
		return eng.ClearChannel(ctx, st.Actor())
	})
}

// changeChannel is run(), then a restart: the engine builds its LINE side
// (live or sandbox) when it starts. The result is the new Status, or the
// current one with the error.
func (s *ChannelService) changeChannel(change func(context.Context, auth.Staff, *engine.Engine) error) (Status, error) {
	a := s.a
	if err := run(a, auth.PermChannel, change); err != nil {
		return a.status(), err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	st, err := a.restartLocked()
	return a.withStaff(st), err
}

// LineSettings returns the LINE settings. Staff who read the inbox may see
// them (the inbox can say that opening a chat shows 既読); they hold no
// customer data.
func (s *ChannelService) LineSettings() (LineSettings, error) {
	return call(s.a, auth.PermInboxRead, func(ctx context.Context, _ auth.Staff, eng *engine.Engine) (LineSettings, error) {
		on, err := eng.Inbox().MarkReadOnLINEEnabled(ctx)
		return LineSettings{MarkReadOnLine: on}, err
	})
}

// SetLineSettings changes the LINE settings (administrators); the change is
// audited with its old and new value.
func (s *ChannelService) SetLineSettings(in LineSettings) (LineSettings, error) {
	return call(s.a, auth.PermSettings, func(ctx context.Context, st auth.Staff, eng *engine.Engine) (LineSettings, error) {
		return in, eng.Inbox().SetMarkReadOnLINE(ctx, st.Actor(), in.MarkReadOnLine)
	})
}
