package forward

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"tsunagu/internal/seat"
	"tsunagu/internal/seat/client"
)

// pairedPrimary is a fakePrimary that knows its pairing, as client.Session does.
type pairedPrimary struct {
	fakePrimary
	p client.Pairing
}

func (p *pairedPrimary) Pairing() client.Pairing { return p.p }

// TestRoleAnsweredOnTheSeat: SeatRole is answered from the seat's pairing
// and never sent (a primary would say "primary"), also while it is away.
func TestRoleAnsweredOnTheSeat(t *testing.T) {
	var fp seat.Fingerprint
	for i := range fp {
		fp[i] = byte(i * 7)
	}
	p := &pairedPrimary{
		fakePrimary: fakePrimary{err: client.ErrAway},
		p:           client.Pairing{Primary: "192.168.1.20:7443", PrimaryFingerprint: fp.String(), Name: "窓口2"},
	}
	res, err := New(p).Forward(context.Background(), MethodRole, nil)
	if err != nil {
		t.Fatal(err)
	}
	var got seat.RoleInfo
	if err := json.Unmarshal(res, &got); err != nil {
		t.Fatal(err)
	}
	want := seat.RoleInfo{Role: seat.RoleSeat, Seat: "窓口2", Primary: "192.168.1.20:7443", PrimaryFingerprint: fp.Short()}
	if got != want {
		t.Fatalf("SeatRole = %+v, want %+v", got, want)
	}
	if p.got.Method != "" {
		t.Fatalf("SeatRole was sent to the primary: %+v", p.got)
	}

	// A caller without a pairing cannot answer it, and does not send it either.
	plain := &fakePrimary{ans: Answer{Result: json.RawMessage(`{"role":"primary"}`)}}
	_, err = New(plain).Forward(context.Background(), MethodRole, nil)
	var fe *Error
	if !errors.As(err, &fe) || fe.Code != CodeInternal || plain.got.Method != "" {
		t.Fatalf("without a pairing: %v, sent %+v", err, plain.got)
	}
	// A damaged seat.json: an internal error, not a guess.
	p.p.PrimaryFingerprint = "zz"
	if _, err := New(p).Forward(context.Background(), MethodRole, nil); !errors.As(err, &fe) || fe.Code != CodeInternal {
		t.Fatalf("bad pin: %v", err)
	}
}
