package facade

import (
	"maps"
	"slices"

	"tsunagu/internal/seat"
)

// SeatRole tells the UI its role, read once at start (stores/seatLink): the
// window is always a primary's. A seat's own Go side answers the same
// method from its pairing (internal/seat/forward) and never forwards it.
// Public like Status: the sign-in screen shows a seat's name, and it holds
// nothing about customers.
func (s *SystemService) SeatRole() seat.RoleInfo {
	return seat.RoleInfo{Role: seat.RolePrimary}
}

// seatPrimaryOnlyMethods are the bound methods a seat is refused as
// primary-only (seats_files.go): the contract marks them, and a seat's
// screen hides the controls that call them.
func seatPrimaryOnlyMethods() []string {
	var out []string
	for _, m := range slices.Sorted(maps.Keys(seatFileUse)) {
		if seatFileUse[m] == seatPrimaryOnly {
			out = append(out, m)
		}
	}
	return out
}
