package facade

// The bound services: one per feature, each a thin adapter over the
// engine's internal services (tiny-rdm's one-service-per-feature, Wails'
// Bind list). Method names are unique across them (dispatch.New checks):
// the UI calls a method by name, and the generated contract
// (frontend/src/api/contract.gen.ts) records which service has it.
//
// The one way to add a bound method: a method on the feature's service
// whose body is a call(...) or run(...) with its permission (call.go), an
// entry in guard_test.go's methodPerms, and `make contract`.
type (
	SessionService    struct{ a *App } // session.go: sign-in, lock, own password
	StaffService      struct{ a *App } // staff.go
	AuditService      struct{ a *App } // audit.go
	SystemService     struct{ a *App } // system.go, update.go
	ChannelService    struct{ a *App } // channel.go, relay.go
	InboxService      struct{ a *App } // inbox.go, line.go, linestatus.go
	CustomerService   struct{ a *App } // customers.go, attributes.go
	LinkingService    struct{ a *App } // linking.go
	CampaignService   struct{ a *App } // campaigns.go
	SurveyService     struct{ a *App } // surveys.go
	AutomationService struct{ a *App } // automations.go
	RichMenuService   struct{ a *App } // richmenus.go
	BackupService     struct{ a *App } // backup.go
	ErasureService    struct{ a *App } // erasure.go
	SandboxService    struct{ a *App } // sandbox.go
	DraftService      struct{ a *App } // drafts.go
	DashboardService  struct{ a *App } // dashboard.go
)

// Services are the objects to bind, in the order of the list above.
func (h *Host) Services() []any {
	a := h.app
	return []any{
		&SessionService{a}, &StaffService{a}, &AuditService{a}, &SystemService{a}, &ChannelService{a},
		&InboxService{a}, &CustomerService{a}, &LinkingService{a}, &CampaignService{a}, &SurveyService{a},
		&AutomationService{a}, &RichMenuService{a}, &BackupService{a}, &ErasureService{a}, &SandboxService{a},
		&DraftService{a}, &DashboardService{a},
	}
}
