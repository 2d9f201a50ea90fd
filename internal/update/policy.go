package update

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
)

// Policy is what IT configures: the one update location and the public key
// that signs its manifests. It is read from a place only an administrator
// can write (see LoadPolicy), never from the data folder or the install
// folder: both belong to the user in a per-user install, and a policy the
// user could edit would let anyone point the app at their own "update".
type Policy struct {
	Location  string `json:"location"`  // https://host/path/ or a folder (\\server\share\tsunagu)
	PublicKey string `json:"publicKey"` // "ed25519:" + base64
	// From says where the policy was read (for the About screen).
	From string `json:"-"`
}

// Validate checks that both fields are usable.
func (p Policy) Validate() error {
	if strings.TrimSpace(p.Location) == "" && strings.TrimSpace(p.PublicKey) == "" {
		return ErrNotConfigured
	}
	if _, err := newSource(p.Location, nil); err != nil {
		return err
	}
	if _, err := DecodePublicKey(p.PublicKey); err != nil {
		return fmt.Errorf("%w: publicKey: %v", ErrBadPolicy, err)
	}
	return nil
}

// PolicyFileName is the policy file's name where a file is used.
const PolicyFileName = "update-policy.json"

// ReadPolicyFile reads a policy file. With protected set it first checks
// that the file and its folder are writable by administrators only
// (checkProtected, per platform); the production loader always sets it.
// A missing file is ErrNotConfigured.
func ReadPolicyFile(path string, protected bool) (Policy, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return Policy{}, ErrNotConfigured
	}
	if err != nil {
		return Policy{}, fmt.Errorf("%w: %v", ErrBadPolicy, err)
	}
	if protected {
		if err := checkProtected(path); err != nil {
			return Policy{}, fmt.Errorf("%w: %s: %v", ErrBadPolicy, path, err)
		}
	}
	var p Policy
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		return Policy{}, fmt.Errorf("%w: %s: %v", ErrBadPolicy, path, err)
	}
	p.From = path
	return p, p.Validate()
}
