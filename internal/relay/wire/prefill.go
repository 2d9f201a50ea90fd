package wire

import (
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"

	"golang.org/x/crypto/nacl/secretbox"
)

// Prefill without exposure (issue 21). A form link sent to one customer may
// carry values from the desktop's customer record. The desktop makes a
// random 256-bit key K, which travels only in the link's fragment
// (#k=…); the relay stores only the ciphertext, under a random ID, until
// it expires. The box key is bound to the LINE user the link was sent to:
//
//	K' = HKDF-SHA256(ikm = K, salt = LINE user ID, info = PrefillInfo + form ID)
//	blob = nonce (24 random bytes) ‖ secretbox(K', nonce, {"v": {question ID: value}})
//
// The page derives K' with the `sub` of the ID token LIFF gives it, so a
// forwarded link opened by someone else decrypts to nothing, and the relay
// (which may see K once: LINE carries a LIFF URL's fragment to the
// endpoint inside ?liff.state=) would still need the user ID. The page's
// implementation is frontend/forms-page/src/prefill.ts; both test the
// same vector (TestPrefillVector, formspage-prefill.test.ts).

// PrefillInfo starts the HKDF info string (the form's ID follows), so a
// key never opens another form's values.
const PrefillInfo = "tsunagu prefill v1 "

// Limits of prefill blobs.
const (
	MaxPrefillBlob = 16 << 10 // bytes of a sealed set of values
	// MaxPrefillTTL bounds how long the relay keeps a blob (the form's
	// setting is 1 to 30 days).
	MaxPrefillTTL  = 30 * 24 * 60 * 60 * 1000 // ms
	PrefillKeySize = 32
)

// FormPrefill is a sealed set of values for one link (FormUpload.Prefill).
type FormPrefill struct {
	Form    string `json:"form"`    // the form's ID (ValidToken)
	ID      string `json:"id"`      // the blob's random ID (ValidToken): the link's ?p=
	Blob    []byte `json:"blob"`    // nonce ‖ secretbox
	Expires int64  `json:"expires"` // unix ms; the relay serves it until then
}

// ErrPrefill: a prefill blob the relay will not keep, or one that does not
// open.
var ErrPrefill = errors.New("relay: malformed or unopenable prefill")

// Check bounds what the relay keeps.
func (p *FormPrefill) Check(now int64) error {
	if !ValidToken(p.Form) || !ValidToken(p.ID) || len(p.Blob) <= 24+secretbox.Overhead ||
		len(p.Blob) > MaxPrefillBlob || p.Expires <= now || p.Expires > now+MaxPrefillTTL {
		return ErrPrefill
	}
	return nil
}

// PrefillBoxKey derives K' from the link's key, the LINE user it was sent
// to and the form.
func PrefillBoxKey(key []byte, lineUserID, formID string) (*[32]byte, error) {
	if len(key) != PrefillKeySize {
		return nil, ErrPrefill
	}
	k, err := hkdf.Key(sha256.New, key, []byte(lineUserID), PrefillInfo+formID, 32)
	if err != nil {
		return nil, fmt.Errorf("relay: prefill key: %w", err)
	}
	var out [32]byte
	copy(out[:], k)
	clear(k)
	return &out, nil
}

// prefillPlain is what a blob holds.
type prefillPlain struct {
	Values map[string]any `json:"v"`
}

// SealPrefill seals values (question ID → the answer as the page sends
// it) for one LINE user and form, with nonce from rand.
func SealPrefill(key []byte, lineUserID, formID string, values map[string]any) ([]byte, error) {
	k, err := PrefillBoxKey(key, lineUserID, formID)
	if err != nil {
		return nil, err
	}
	defer clear(k[:])
	var nonce [24]byte
	if _, err := rand.Read(nonce[:]); err != nil {
		return nil, fmt.Errorf("relay: prefill nonce: %w", err)
	}
	return sealPrefill(k, &nonce, values)
}

func sealPrefill(k *[32]byte, nonce *[24]byte, values map[string]any) ([]byte, error) {
	plain, err := json.Marshal(prefillPlain{Values: values})
	if err != nil {
		return nil, fmt.Errorf("relay: prefill values: %w", err)
	}
	defer clear(plain)
	return secretbox.Seal(nonce[:], plain, nonce, k), nil
}

// OpenPrefill opens a blob as the page does (tests).
func OpenPrefill(key []byte, lineUserID, formID string, blob []byte) (map[string]any, error) {
	k, err := PrefillBoxKey(key, lineUserID, formID)
	if err != nil {
		return nil, err
	}
	if len(blob) <= 24+secretbox.Overhead {
		return nil, ErrPrefill
	}
	var nonce [24]byte
	copy(nonce[:], blob)
	plain, ok := secretbox.Open(nil, blob[24:], &nonce, k)
	if !ok {
		return nil, ErrPrefill
	}
	var p prefillPlain
	if err := json.Unmarshal(plain, &p); err != nil {
		return nil, ErrPrefill
	}
	return p.Values, nil
}

// PrefillFragment is the link's fragment carrying key.
func PrefillFragment(key []byte) string { return "k=" + base64.RawURLEncoding.EncodeToString(key) }
