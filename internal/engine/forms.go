package engine

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"tsunagu/internal/forms"
	"tsunagu/internal/relayclient"
)

// Web forms (package forms, issue 21). A form is published to the enrolled
// relay; its answers come back sealed in the relay's queue with the
// webhooks, and relayBatch hands each to the forms service, which verifies
// the customer's LINE ID token against LINE Login's keys (fetched from the
// channel's LINE endpoint: the simulator's in sandbox mode) at the relay's
// receipt time and stores the answers. The
// sandbox has no stand-in for the relay's form pages yet.

// formParts is the engine's forms state.
type formParts struct {
	formOnce     sync.Once
	formSvc      *forms.Service
	lineEndpoint string // where LINE Login's keys are (startLive, startSandbox)
}

// Forms is the web forms service (nil if it could not be built).
func (e *Engine) Forms() *forms.Service {
	e.formOnce.Do(func() {
		cfg := forms.Config{DB: e.db, Clock: e.now, Relay: e.formRelay, LoginEndpoint: e.lineEndpoint}
		if e.outbox != nil {
			cfg.Thanks = e.outbox
		}
		svc, err := forms.New(cfg)
		if err != nil {
			e.log.Warn("web forms are off", "err", err)
			return
		}
		e.formSvc = svc
	})
	return e.formSvc
}

// formRelay is the enrolled relay's client, if any.
func (e *Engine) formRelay(ctx context.Context) (forms.Publisher, bool) {
	if e.sandbox {
		return nil, false
	}
	if _, err := e.RelayEnrollment(); err != nil {
		return nil, false
	}
	c, err := e.newRelayClient(ctx)
	if err != nil {
		e.log.Warn("web forms: relay client", "err", err)
		return nil, false
	}
	return c, true
}

// storeForms takes the form submissions of a relay batch, one transaction
// each. A refused submission (forged, expired, replayed) is recorded and
// acked; one that cannot be handled yet (LINE unreachable, LINE Login not
// set up) stays unacked and comes again.
func (e *Engine) storeForms(ctx context.Context, events []relayclient.Event, out []error) {
	var svc *forms.Service
	for i, ev := range events {
		if ev.Form == nil {
			continue
		}
		if svc == nil {
			if svc = e.Forms(); svc == nil {
				out[i] = errors.New("web forms are off")
				continue
			}
		}
		res, err := svc.Intake(ctx, forms.Submission{Form: ev.Form, ReceivedAt: ev.ReceivedAt})
		if err != nil {
			e.log.Warn("form answer not stored yet", "err", err)
		} else if res == forms.Rejected {
			e.log.Warn("form answer refused")
		}
		out[i] = err
	}
}

// FormPrefillPreview shows which customer values a prefilled link of a
// form to a conversation's LINE user would carry (forms.PrefillPreview).
func (e *Engine) FormPrefillPreview(ctx context.Context, conversationID, formID int64) (forms.PrefillPreview, error) {
	svc, user, err := e.formTo(ctx, conversationID)
	if err != nil {
		return forms.PrefillPreview{}, err
	}
	return svc.PrefillPreview(ctx, formID, user)
}

// SendPrefilledForm sends a form's link carrying the customer's values to
// a conversation's LINE user (forms.SendPrefilled: sealed, published to the
// relay, sent through the outbox, audited). It returns the LINE user.
func (e *Engine) SendPrefilledForm(ctx context.Context, actor string, conversationID, formID int64, requestKey string) (forms.PrefillSent, string, error) {
	svc, user, err := e.formTo(ctx, conversationID)
	if err != nil {
		return forms.PrefillSent{}, "", err
	}
	sent, err := svc.SendPrefilled(ctx, actor, formID, user, requestKey)
	return sent, user, err
}

func (e *Engine) formTo(ctx context.Context, conversationID int64) (*forms.Service, string, error) {
	svc := e.Forms()
	if svc == nil || e.inbox == nil {
		return nil, "", forms.ErrNoSender
	}
	user, err := e.inbox.LineUserID(ctx, conversationID)
	if err != nil {
		return nil, "", fmt.Errorf("form to conversation %d: %w", conversationID, err)
	}
	return svc, user, nil
}
