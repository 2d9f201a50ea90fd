package facade

import (
	"context"
	"errors"

	"tsunagu/internal/auth"
	"tsunagu/internal/automation"
	"tsunagu/internal/engine"
)

// Automated messages (issue 11): welcome series and date reminders.
//
// Permissions follow campaigns: reading, previewing and editing rules is
// PermDrafts; approving is PermApprove (the service refuses the author);
// switching a rule on or back on is PermApprove too — the approver lets it
// go out. Pausing is PermDrafts: stopping never reaches a customer.

// Message codes of automations.
const (
	codeAutomationInvalid     = "errors.automationInvalid"
	codeAutomationState       = "errors.automationState"
	codeAutomationOwnApproval = "errors.automationOwnApproval"
	codeAutomationNotApproved = "errors.automationNotApproved"
	codeAutomationStale       = "errors.automationStale"
)

// automationError maps automation errors to message codes (logged with
// their context); any other error is mapped like every facade error.
func (a *App) automationError(err error) error {
	code := ""
	switch {
	case err == nil:
		return nil
	case errors.Is(err, automation.ErrOwnApproval):
		code = codeAutomationOwnApproval
	case errors.Is(err, automation.ErrNotApproved):
		code = codeAutomationNotApproved
	case errors.Is(err, automation.ErrStale):
		code = codeAutomationStale
	case errors.Is(err, automation.ErrState):
		code = codeAutomationState
	case errors.Is(err, automation.ErrNotFound):
		code = codeNotFound
	case errors.Is(err, automation.ErrInvalid):
		code = codeAutomationInvalid
	default:
		return a.userError(err)
	}
	a.opts.Logger.Warn("request failed", "code", code, "err", err)
	return errors.New(code)
}

func automationService(eng *engine.Engine) (*automation.Service, error) {
	if eng == nil || eng.Automations() == nil {
		return nil, errors.New(codeNotStarted)
	}
	return eng.Automations(), nil
}

// ruleAction runs one audited change of a rule (create, update, approve,
// switch on, pause) for the signed-in staff member, after the guard for p.
func (a *App) ruleAction(p auth.Permission, do func(ctx context.Context, svc *automation.Service, actor string) (automation.Rule, error)) (automation.Rule, error) {
	st, _, eng, err := a.requireService(p)
	if err != nil {
		return automation.Rule{}, err
	}
	svc, err := automationService(eng)
	if err != nil {
		return automation.Rule{}, err
	}
	r, err := do(a.context(), svc, st.Actor())
	return r, a.automationError(err)
}

// Automations lists every rule, newest first.
func (a *App) Automations() ([]automation.Rule, error) {
	_, _, eng, err := a.requireService(auth.PermDrafts)
	if err != nil {
		return nil, err
	}
	svc, err := automationService(eng)
	if err != nil {
		return nil, err
	}
	list, err := svc.List(a.context())
	return list, a.automationError(err)
}

// CreateAutomation stores a new draft rule; audited.
func (a *App) CreateAutomation(d automation.Draft) (automation.Rule, error) {
	return a.ruleAction(auth.PermDrafts, func(ctx context.Context, svc *automation.Service, actor string) (automation.Rule, error) {
		return svc.Create(ctx, actor, d)
	})
}

// UpdateAutomation edits a rule at the version the editor loaded; the
// approval is withdrawn and an active rule paused. Audited.
func (a *App) UpdateAutomation(id int64, version int, d automation.Draft) (automation.Rule, error) {
	return a.ruleAction(auth.PermDrafts, func(ctx context.Context, svc *automation.Service, actor string) (automation.Rule, error) {
		return svc.Update(ctx, actor, id, version, d)
	})
}

// DeleteAutomation removes a rule that is not on; audited.
func (a *App) DeleteAutomation(id int64) error {
	st, _, eng, err := a.requireService(auth.PermDrafts)
	if err != nil {
		return err
	}
	svc, err := automationService(eng)
	if err != nil {
		return err
	}
	return a.automationError(svc.Delete(a.context(), st.Actor(), id))
}

// ApproveAutomation approves a rule's version (not its author's); audited.
func (a *App) ApproveAutomation(id int64, version int) (automation.Rule, error) {
	return a.ruleAction(auth.PermApprove, func(ctx context.Context, svc *automation.Service, actor string) (automation.Rule, error) {
		return svc.Approve(ctx, actor, id, version)
	})
}

// ActivateAutomation switches an approved rule on, or back on; audited.
func (a *App) ActivateAutomation(id int64) (automation.Rule, error) {
	return a.ruleAction(auth.PermApprove, func(ctx context.Context, svc *automation.Service, actor string) (automation.Rule, error) {
		return svc.Activate(ctx, actor, id)
	})
}

// PauseAutomation stops an active rule; audited.
func (a *App) PauseAutomation(id int64) (automation.Rule, error) {
	return a.ruleAction(auth.PermDrafts, func(ctx context.Context, svc *automation.Service, actor string) (automation.Rule, error) {
		return svc.Pause(ctx, actor, id)
	})
}

// PreviewAutomation shows what a stored rule sends in the next 30 days.
func (a *App) PreviewAutomation(id int64) (automation.Preview, error) {
	_, _, eng, err := a.requireService(auth.PermDrafts)
	if err != nil {
		return automation.Preview{}, err
	}
	svc, err := automationService(eng)
	if err != nil {
		return automation.Preview{}, err
	}
	p, err := svc.PreviewRule(a.context(), id)
	return p, a.automationError(err)
}

// PreviewAutomationDraft shows what a rule being edited would send in the
// next 30 days.
func (a *App) PreviewAutomationDraft(d automation.Draft) (automation.Preview, error) {
	_, _, eng, err := a.requireService(auth.PermDrafts)
	if err != nil {
		return automation.Preview{}, err
	}
	svc, err := automationService(eng)
	if err != nil {
		return automation.Preview{}, err
	}
	p, err := svc.PreviewDraft(a.context(), d)
	return p, a.automationError(err)
}

// AutomationStats counts a rule's occurrences by status and skip reason.
func (a *App) AutomationStats(id int64) (automation.Stats, error) {
	_, _, eng, err := a.requireService(auth.PermDrafts)
	if err != nil {
		return automation.Stats{}, err
	}
	svc, err := automationService(eng)
	if err != nil {
		return automation.Stats{}, err
	}
	s, err := svc.Stats(a.context(), id)
	return s, a.automationError(err)
}
