package facade

// ChannelService: the LINE channel's credentials and settings, and the webhook relay.

import (
	"tsunagu/internal/audit"
	"tsunagu/internal/auth"
	"tsunagu/internal/secrets"
)

// SaveChannel stores real channel credentials in the keychain and restarts
// the engine against LINE, leaving sandbox mode.
func (a *App) SaveChannel(secret, accessToken string) (Status, error) {
	st, err := a.require(auth.PermChannel)
	if err != nil {
		return a.status(), err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	sec, err := a.secretsLocked()
	if err != nil {
		return a.statusLocked(), err
	}
	if err := sec.SetChannel(a.ctx, secrets.Channel{Secret: secret, AccessToken: accessToken}); err != nil {
		return a.statusLocked(), a.userError(err)
	}
	a.auditChannelLocked(st, audit.ActionChannelSet)
	return a.restartLocked()
}

// ClearChannel removes the channel credentials and returns to sandbox mode.
func (a *App) ClearChannel() (Status, error) {
	st, err := a.require(auth.PermChannel)
	if err != nil {
		return a.status(), err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	sec, err := a.secretsLocked()
	if err != nil {
		return a.statusLocked(), err
	}
	if err := sec.DeleteChannel(a.ctx); err != nil {
		return a.statusLocked(), a.userError(err)
	}
	a.auditChannelLocked(st, audit.ActionChannelClear)
	return a.restartLocked()
}

// LineSettings returns the LINE settings. Staff who read the inbox may see
// them (the inbox can say that opening a chat shows 既読); they hold no
// customer data.
func (a *App) LineSettings() (LineSettings, error) {
	if _, err := a.require(auth.PermInboxRead); err != nil {
		return LineSettings{}, err
	}
	ib, err := a.inbox()
	if err != nil {
		return LineSettings{}, err
	}
	on, err := ib.MarkReadOnLINEEnabled(a.ctx)
	if err != nil {
		return LineSettings{}, a.userError(err)
	}
	return LineSettings{MarkReadOnLine: on}, nil
}

// SetLineSettings changes the LINE settings (administrators); the change is
// audited with its old and new value.
func (a *App) SetLineSettings(s LineSettings) (LineSettings, error) {
	st, err := a.require(auth.PermSettings)
	if err != nil {
		return LineSettings{}, err
	}
	ib, err := a.inbox()
	if err != nil {
		return LineSettings{}, err
	}
	if err := ib.SetMarkReadOnLINE(a.ctx, st.Actor(), s.MarkReadOnLine); err != nil {
		return LineSettings{}, a.userError(err)
	}
	return s, nil
}
