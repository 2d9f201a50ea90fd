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
	SessionService    struct{ a *Client } // session.go: sign-in, lock, own password
	StaffService      struct{ a *Client } // staff.go
	AuditService      struct{ a *Client } // audit.go
	SystemService     struct{ a *Client } // system.go, update.go
	ChannelService    struct{ a *Client } // channel.go, relay.go
	InboxService      struct{ a *Client } // inbox.go, line.go, linestatus.go
	CustomerService   struct{ a *Client } // customers.go, attributes.go
	LinkingService    struct{ a *Client } // linking.go
	CampaignService   struct{ a *Client } // campaigns.go
	SurveyService     struct{ a *Client } // surveys.go
	AutomationService struct{ a *Client } // automations.go
	RichMenuService   struct{ a *Client } // richmenus.go
	BackupService     struct{ a *Client } // backup.go
	ErasureService    struct{ a *Client } // erasure.go
	SandboxService    struct{ a *Client } // sandbox.go
	DraftService      struct{ a *Client } // drafts.go
	RoutesService     struct{ a *Client } // routes.go
	FormsService      struct{ a *Client } // forms.go
	BookingService    struct{ a *Client } // booking.go
	DashboardService  struct{ a *Client } // dashboard.go
	SeatAdminService  struct{ a *Client } // seatadmin.go (the primary's seat screen)
	SeatPairService   struct{ a *Client } // seatpair.go (a new seat's first screen)
)

// Services are the objects to bind, in the order of the list above.
func (h *Host) Services() []any { return h.window.Services() }

// Services are the objects a client calls: the window's are bound to Wails,
// a seat's are dispatched by name over its connection.
func (a *Client) Services() []any {
	return []any{
		&SessionService{a}, &StaffService{a}, &AuditService{a}, &SystemService{a}, &ChannelService{a},
		&InboxService{a}, &CustomerService{a}, &LinkingService{a}, &CampaignService{a}, &SurveyService{a},
		&AutomationService{a}, &RichMenuService{a}, &BackupService{a}, &ErasureService{a}, &SandboxService{a},
		&DraftService{a}, &RoutesService{a}, &FormsService{a}, &BookingService{a}, &DashboardService{a},
		&SeatAdminService{a}, &SeatPairService{a},
	}
}
