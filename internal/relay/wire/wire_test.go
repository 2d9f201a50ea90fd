package wire

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"strings"
	"testing"

	"tsunagu/internal/line"
)

// LINE's documented signature example.
const (
	docBody      = `{"destination":"U8e742f61d673b39c7fff3cecb7536ef0","events":[]}`
	docSecret    = "8c570fa6dd201bb328f1c1eac23a96d8"
	docSignature = "GhRKmvmHys4Pi8DxkF4+EayaH0OqtJtaZxgTD9fMDLs="
)

func TestSealOpenRoundTrip(t *testing.T) {
	pub, priv, err := GenerateBoxKey()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		body []byte
		sig  string
	}{
		{"line doc vector", []byte(docBody), docSignature},
		{"empty body", nil, "x"},
		{"japanese", []byte(`{"events":[{"message":{"text":"定期預金"}}]}`), docSignature},
		{"large", bytes.Repeat([]byte("a"), 1<<20), docSignature},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sealed, err := Seal(pub, tc.body, tc.sig)
			if err != nil {
				t.Fatal(err)
			}
			if len(tc.body) > 8 && bytes.Contains(sealed, tc.body[:8]) {
				t.Fatal("sealed box contains plaintext")
			}
			body, sig, err := Open(pub, priv, sealed)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(body, tc.body) || sig != tc.sig {
				t.Fatalf("round trip changed the event: sig %q", sig)
			}
		})
	}
}

// The LINE signature still verifies after sealing and opening: the relay
// passes the raw body byte for byte.
func TestOpenedEventVerifiesWithLINEDocVector(t *testing.T) {
	pub, priv, _ := GenerateBoxKey()
	sealed, err := Seal(pub, []byte(docBody), docSignature)
	if err != nil {
		t.Fatal(err)
	}
	body, sig, err := Open(pub, priv, sealed)
	if err != nil {
		t.Fatal(err)
	}
	v := line.NewVerifier(docSecret)
	if _, err := v.Parse(body, sig); err != nil {
		t.Fatalf("LINE's documented signature does not verify after the relay: %v", err)
	}
	if _, err := line.NewVerifier("00000000000000000000000000000000").Parse(body, sig); err == nil {
		t.Fatal("wrong secret verified")
	}
}

func TestOpenRefusesTamperAndWrongKey(t *testing.T) {
	pub, priv, _ := GenerateBoxKey()
	otherPub, otherPriv, _ := GenerateBoxKey()
	sealed, _ := Seal(pub, []byte(docBody), docSignature)
	for i := range []int{0, 1, 40, len(sealed) - 1} {
		idx := []int{0, 1, 40, len(sealed) - 1}[i]
		bad := bytes.Clone(sealed)
		bad[idx] ^= 1
		if _, _, err := Open(pub, priv, bad); err != ErrOpen {
			t.Errorf("flipped byte %d: err %v, want ErrOpen", idx, err)
		}
	}
	if _, _, err := Open(otherPub, otherPriv, sealed); err != ErrOpen {
		t.Errorf("wrong key: err %v", err)
	}
	if _, _, err := Open(pub, priv, sealed[:20]); err != ErrOpen {
		t.Errorf("truncated: err %v", err)
	}
	if _, err := Seal(pub, nil, string(make([]byte, 300))); err == nil {
		t.Error("oversized signature sealed")
	}
}

func TestAuthStatementBindsEverything(t *testing.T) {
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	nonce := make([]byte, 32)
	rand.Read(nonce)
	sig := ed25519.Sign(priv, AuthStatement(PurposeConnect, "t000000000001", nonce, nil))
	if !Verify(pub, PurposeConnect, "t000000000001", nonce, nil, sig) {
		t.Fatal("valid signature refused")
	}
	other := bytes.Clone(nonce)
	other[0] ^= 1
	for name, ok := range map[string]bool{
		"other purpose": Verify(pub, PurposeMedia, "t000000000001", nonce, nil, sig),
		"other tenant":  Verify(pub, PurposeConnect, "t000000000002", nonce, nil, sig),
		"other nonce":   Verify(pub, PurposeConnect, "t000000000001", other, nil, sig),
		"extra data":    Verify(pub, PurposeConnect, "t000000000001", nonce, []byte("x"), sig),
		"short nonce":   Verify(pub, PurposeConnect, "t000000000001", nonce[:8], nil, ed25519.Sign(priv, AuthStatement(PurposeConnect, "t000000000001", nonce[:8], nil))),
		"no key":        Verify(nil, PurposeConnect, "t000000000001", nonce, nil, sig),
	} {
		if ok {
			t.Errorf("%s: verified", name)
		}
	}
}

// TestLimitsAgree: the largest body with the longest signature seals to at
// most MaxEventBytes, and a batch filled up to BatchBudget by
// EventWireBytes, with the widest numbers JSON can carry, marshals to at
// most MaxBatchBytes = ReadLimit: every batch the relay cuts this way is
// one the desktop reads.
func TestLimitsAgree(t *testing.T) {
	pub, _, _ := GenerateBoxKey()
	sealed, err := Seal(pub, bytes.Repeat([]byte("{"), MaxBodyBytes), string(bytes.Repeat([]byte("s"), maxSignature)))
	if err != nil {
		t.Fatal(err)
	}
	if len(sealed) != MaxEventBytes {
		t.Fatalf("largest sealed event %d bytes, MaxEventBytes %d", len(sealed), MaxEventBytes)
	}
	if ReadLimit < MaxBatchBytes {
		t.Fatal("read limit below the batch limit")
	}
	for _, sizes := range [][]int{
		{MaxEventBytes},                       // one largest event
		{MaxEventBytes, MaxEventBytes},        // as many largest ones as fit
		{1, 2, 3, 4, 5, 100, 1000, 65536},     // odd sizes (base64 padding)
		{MaxEventBytes - 1, 700, 1, 2, 3, 77}, // a large one and small ones
	} {
		var events []Event
		used := 0
		for i := 0; ; i++ {
			n := sizes[i%len(sizes)]
			if used+EventWireBytes(n) > BatchBudget {
				break
			}
			used += EventWireBytes(n)
			// The longest hold and slot beside the box (ValidHoldID, ValidSlotKey).
			events = append(events, Event{Seq: ^uint64(0), ReceivedAt: -1 << 63, Sealed: bytes.Repeat([]byte{0xff}, n), Redelivery: true,
				Hold: strings.Repeat("h", 64), Slot: strings.Repeat("9", 19) + "-" + strings.Repeat("9", 19)})
		}
		if len(events) == 0 {
			t.Fatalf("sizes %v: not even one event fits a batch", sizes[:1])
		}
		data, err := json.Marshal(Msg{Type: "batch", Events: events, Pending: ^uint64(0)})
		if err != nil {
			t.Fatal(err)
		}
		if len(data) > MaxBatchBytes {
			t.Fatalf("a batch of %d events cut at the budget is %d bytes, over MaxBatchBytes %d", len(events), len(data), MaxBatchBytes)
		}
	}
}
