package engine

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"

	"tsunagu/internal/datadir"
	"tsunagu/internal/linesim"
)

// EventSandboxPhone is emitted when the simulator delivered a staff message
// to a simulated customer, so the phone panel can refresh.
const EventSandboxPhone = "sandbox:phone"

// SandboxPhoneEvent is the payload of EventSandboxPhone.
type SandboxPhoneEvent struct {
	UserID string `json:"userId"`
}

// sandboxCustomers are the simulated friends of the sandbox channel. Their
// LINE user IDs are derived from the install ID so that conversations stored
// in the DB still match them after a restart, and differ between installs.
func sandboxCustomers(dir datadir.Dir) []linesim.Customer {
	id, _ := dir.ReadInstallID()
	people := []struct{ key, name string }{
		{"hanako", "山田 花子"},
		{"kenichi", "佐藤 健一"},
		{"misaki", "鈴木 美咲"},
		{"makoto", "高橋 誠"},
	}
	out := make([]linesim.Customer, 0, len(people))
	for _, p := range people {
		sum := sha256.Sum256([]byte("tsunagu-sandbox/" + id + "/" + p.key))
		out = append(out, linesim.Customer{
			UserID:      "U" + hex.EncodeToString(sum[:16]),
			DisplayName: p.name,
			Language:    "ja",
			Following:   true,
		})
	}
	return out
}

// ErrNotSandbox is asking for the simulator outside sandbox mode.
var ErrNotSandbox = errors.New("engine: not in sandbox mode")

// Simulator is the sandbox's LINE simulator; ErrNotSandbox in live mode.
func (e *Engine) Simulator() (*linesim.Server, error) {
	if e.sim == nil {
		return nil, ErrNotSandbox
	}
	return e.sim, nil
}
