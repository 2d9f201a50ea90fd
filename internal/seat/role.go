package seat

// RoleKind is an installation's role in its branch.
type RoleKind string

const (
	// RolePrimary (親機) holds the database; a single-PC branch is one.
	RolePrimary RoleKind = "primary"
	// RoleSeat (子機) works on its primary's data and keeps none.
	RoleSeat RoleKind = "seat"
)

// RoleKinds are the roles, for the UI contract's enum.
func RoleKinds() []RoleKind { return []RoleKind{RolePrimary, RoleSeat} }

// RoleInfo is what the UI reads once at start to know whether it runs on a
// seat (the seat:connection event comes only on a change, so it cannot
// tell). A primary's window answers it through the facade; a seat's own Go
// side answers it from its pairing, never asking the primary
// (internal/seat/forward). The same bound method name in both roles.
type RoleInfo struct {
	Role RoleKind `json:"role"`
	// Seat is this seat's name at its primary (「窓口2」); "" on a primary.
	Seat string `json:"seat"`
	// Primary is the primary's address (host:port) and PrimaryFingerprint
	// its short fingerprint as people compare it; "" on a primary.
	Primary            string `json:"primary"`
	PrimaryFingerprint string `json:"primaryFingerprint"`
}
