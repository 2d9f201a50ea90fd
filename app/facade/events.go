package facade

import (
	"reflect"

	"tsunagu/internal/campaign"
	"tsunagu/internal/engine"
	"tsunagu/internal/importer"
	"tsunagu/internal/inbox"
	"tsunagu/internal/seat/forward"
)

// Events are the UI events the backend emits, by name, with the Go type of
// their payload (nil: the event carries none). This is the list the
// generated contract (frontend/src/api/contract.gen.ts) gives the UI's
// onEvent: an event emitted with another payload, or not listed here, is a
// change of the UI contract and belongs in this list.
func Events() map[string]reflect.Type {
	return map[string]reflect.Type{
		EventStatus:              reflect.TypeFor[Status](),
		inbox.EventChanged:       reflect.TypeFor[inbox.ChangedEvent](),
		inbox.EventLineStatus:    reflect.TypeFor[inbox.LineStatusEvent](),
		inbox.EventDeadLetters:   nil,
		importer.EventProgress:   reflect.TypeFor[importer.Progress](),
		engine.EventSandboxPhone: reflect.TypeFor[engine.SandboxPhoneEvent](),
		engine.EventRelayStatus:  reflect.TypeFor[engine.RelayStatus](),
		campaign.EventChanged:    reflect.TypeFor[campaign.ChangedEvent](),
		EventPresence:            reflect.TypeFor[PresenceEvent](),
		// Only on a seat (子機): its link to the primary (internal/seat/forward).
		forward.EventConnection: reflect.TypeFor[forward.Connection](),
	}
}
