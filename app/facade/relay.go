package facade

import (
	"strings"
	"tsunagu/internal/msgcode"

	"tsunagu/internal/audit"
	"tsunagu/internal/auth"
	"tsunagu/internal/engine"
)

// Audit actions of the relay (keychain and a file, so recorded on their own).
const (
	actionRelayEnroll     = "relay.enroll"
	actionRelayDisconnect = "relay.disconnect"
	actionRelayWebhook    = "relay.webhook_set"
)

// RelayStatus is the webhook relay's enrollment and connection: connected,
// reconnecting, the last event's time, the queue lag, and how many bodies
// were dropped for a bad LINE signature.
func (a *App) RelayStatus() (engine.RelayStatus, error) {
	_, _, eng, err := a.requireService(auth.PermChannel)
	if err != nil {
		return engine.RelayStatus{}, err
	}
	return eng.RelayStatus(), nil
}

// RelayEnroll enrolls this office with a webhook relay using the code its
// operator gave (`tsunagu-relay tenant add`). New keys go to the keychain;
// the relay learns only their public halves.
func (a *App) RelayEnroll(relayURL, code string) (engine.RelayStatus, error) {
	st, _, eng, err := a.requireService(auth.PermChannel)
	if err != nil {
		return engine.RelayStatus{}, err
	}
	if strings.TrimSpace(code) == "" {
		return eng.RelayStatus(), msgcode.New(msgcode.RelayBadCode)
	}
	// The window never enrolls over plain HTTP: development and tests use
	// tsunagu-cli's --allow-http-loopback.
	en, err := eng.RelayEnroll(a.context(), relayURL, code, a.opts.RelayTransport)
	if err != nil {
		return eng.RelayStatus(), a.userError(err)
	}
	if err := a.record(eng, audit.Entry{At: a.now(), Actor: st.Actor(), Action: actionRelayEnroll, Target: en.Tenant,
		Detail: map[string]string{"relay": en.RelayURL}}); err != nil {
		a.opts.Logger.Error("audit relay enroll", "err", err)
	}
	return eng.RelayStatus(), nil
}

// RelayDisconnect stops receiving through the relay and removes its keys.
func (a *App) RelayDisconnect() (engine.RelayStatus, error) {
	st, _, eng, err := a.requireService(auth.PermChannel)
	if err != nil {
		return engine.RelayStatus{}, err
	}
	prev := eng.RelayStatus()
	if !prev.Enrolled {
		return prev, msgcode.New(msgcode.RelayNotEnrolled)
	}
	if err := eng.RelayDisconnect(a.context()); err != nil {
		return eng.RelayStatus(), a.userError(err)
	}
	if err := a.record(eng, audit.Entry{At: a.now(), Actor: st.Actor(), Action: actionRelayDisconnect, Target: prev.Tenant}); err != nil {
		a.opts.Logger.Error("audit relay disconnect", "err", err)
	}
	return eng.RelayStatus(), nil
}

// RelaySetWebhookOnLINE sets the channel's webhook URL on LINE to the
// relay's (LINE's set-webhook-endpoint API) and returns it.
func (a *App) RelaySetWebhookOnLINE() (string, error) {
	st, _, eng, err := a.requireService(auth.PermChannel)
	if err != nil {
		return "", err
	}
	u, err := eng.RelaySetWebhookOnLINE(a.context())
	if err != nil {
		return "", a.userError(err)
	}
	en, _ := eng.RelayEnrollment()
	if err := a.record(eng, audit.Entry{At: a.now(), Actor: st.Actor(), Action: actionRelayWebhook, Target: en.Tenant}); err != nil {
		a.opts.Logger.Error("audit relay webhook", "err", err)
	}
	return u, nil
}
