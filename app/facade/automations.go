package facade

import (
	"context"

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

// Automations lists every rule, newest first.
func (s *AutomationService) Automations() ([]automation.Rule, error) {
	return call(s.a, auth.PermDrafts, func(ctx context.Context, _ auth.Staff, eng *engine.Engine) ([]automation.Rule, error) {
		return eng.Automations().List(ctx)
	})
}

// CreateAutomation stores a new draft rule; audited.
func (s *AutomationService) CreateAutomation(d automation.Draft) (automation.Rule, error) {
	return call(s.a, auth.PermDrafts, func(ctx context.Context, st auth.Staff, eng *engine.Engine) (automation.Rule, error) {
		return eng.Automations().Create(ctx, st.Actor(), d)
	})
}

// UpdateAutomation edits a rule at the version the editor loaded; the
// approval is withdrawn and an active rule paused. Audited.
func (s *AutomationService) UpdateAutomation(id int64, version int, d automation.Draft) (automation.Rule, error) {
	return call(s.a, auth.PermDrafts, func(ctx context.Context, st auth.Staff, eng *engine.Engine) (automation.Rule, error) {
		return eng.Automations().Update(ctx, st.Actor(), id, version, d)
	})
}

// DeleteAutomation removes a rule that is not on; audited.
func (s *AutomationService) DeleteAutomation(id int64) error {
	return run(s.a, auth.PermDrafts, func(ctx context.Context, st auth.Staff, eng *engine.Engine) error {
		return eng.Automations().Delete(ctx, st.Actor(), id)
	})
}

// ApproveAutomation approves a rule's version (not its author's); audited.
func (s *AutomationService) ApproveAutomation(id int64, version int) (automation.Rule, error) {
	return call(s.a, auth.PermApprove, func(ctx context.Context, st auth.Staff, eng *engine.Engine) (automation.Rule, error) {
		return eng.Automations().Approve(ctx, st.Actor(), id, version)
	})
}

// ActivateAutomation switches an approved rule on, or back on; audited.
func (s *AutomationService) ActivateAutomation(id int64) (automation.Rule, error) {
	return call(s.a, auth.PermApprove, func(ctx context.Context, st auth.Staff, eng *engine.Engine) (automation.Rule, error) {
		return eng.Automations().Activate(ctx, st.Actor(), id)
	})
}

// PauseAutomation stops an active rule; audited.
func (s *AutomationService) PauseAutomation(id int64) (automation.Rule, error) {
	return call(s.a, auth.PermDrafts, func(ctx context.Context, st auth.Staff, eng *engine.Engine) (automation.Rule, error) {
		return eng.Automations().Pause(ctx, st.Actor(), id)
	})
}

// PreviewAutomation shows what a stored rule sends in the next 30 days.
func (s *AutomationService) PreviewAutomation(id int64) (automation.Preview, error) {
	return call(s.a, auth.PermDrafts, func(ctx context.Context, _ auth.Staff, eng *engine.Engine) (automation.Preview, error) {
		return eng.Automations().PreviewRule(ctx, id)
	})
}

// PreviewAutomationDraft shows what a rule being edited would send in the
// next 30 days.
func (s *AutomationService) PreviewAutomationDraft(d automation.Draft) (automation.Preview, error) {
	return call(s.a, auth.PermDrafts, func(ctx context.Context, _ auth.Staff, eng *engine.Engine) (automation.Preview, error) {
		return eng.Automations().PreviewDraft(ctx, d)
	})
}

// AutomationStats counts a rule's occurrences by status and skip reason.
func (s *AutomationService) AutomationStats(id int64) (automation.Stats, error) {
	return call(s.a, auth.PermDrafts, func(ctx context.Context, _ auth.Staff, eng *engine.Engine) (automation.Stats, error) {
		return eng.Automations().Stats(ctx, id)
	})
}
