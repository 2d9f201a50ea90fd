package forward

import (
	"encoding/json"
	"fmt"

	"tsunagu/internal/seat/client"
)

// MethodRole is the bound method the UI reads once at start to know its
// role (seat.RoleInfo). On a primary's window the facade answers it; on a
// seat the forwarder answers it itself from the seat's pairing and never
// sends it: a primary would answer "primary".
const MethodRole = "SeatRole"

// Paired is a Caller that knows the pairing it connects with
// (client.Session): the forwarder answers MethodRole from it.
type Paired interface {
	Pairing() client.Pairing
}

var _ Paired = (*client.Session)(nil)

// role is the local answer to MethodRole.
func (f *Forwarder) role() (json.RawMessage, error) {
	p, ok := f.c.(Paired)
	if !ok {
		return nil, &Error{Code: CodeInternal, cause: fmt.Errorf("%s: the seat's session does not know its pairing", MethodRole)}
	}
	r, err := p.Pairing().Role()
	if err != nil {
		return nil, &Error{Code: CodeInternal, cause: err}
	}
	b, err := json.Marshal(r)
	if err != nil {
		return nil, &Error{Code: CodeInternal, cause: fmt.Errorf("encode the seat's role: %w", err)}
	}
	return b, nil
}
