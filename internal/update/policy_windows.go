//go:build windows

package update

import (
	"errors"
	"fmt"

	"golang.org/x/sys/windows/registry"
)

// PolicyKey is the registry key IT sets (by Group Policy preferences or
// `reg add`): HKEY_LOCAL_MACHINE\SOFTWARE\Policies\Tsunagu, values
// UpdateLocation and UpdatePublicKey (REG_SZ). Only administrators can
// write under HKLM\SOFTWARE\Policies, so a user cannot swap the key or the
// location even though the app itself is installed per user.
const PolicyKey = `SOFTWARE\Policies\Tsunagu`

// PolicyPaths names where the policy is read from (for messages and docs).
func PolicyPaths() []string { return []string{`HKLM\` + PolicyKey} }

// LoadPolicy reads the machine's policy (ErrNotConfigured if there is none).
func LoadPolicy() (Policy, error) {
	k, err := registry.OpenKey(registry.LOCAL_MACHINE, PolicyKey, registry.QUERY_VALUE|registry.WOW64_64KEY)
	if errors.Is(err, registry.ErrNotExist) {
		return Policy{}, ErrNotConfigured
	}
	if err != nil {
		return Policy{}, fmt.Errorf("%w: open HKLM\\%s: %v", ErrBadPolicy, PolicyKey, err)
	}
	defer k.Close()
	loc, _, err := k.GetStringValue("UpdateLocation")
	if err != nil && !errors.Is(err, registry.ErrNotExist) {
		return Policy{}, fmt.Errorf("%w: UpdateLocation: %v", ErrBadPolicy, err)
	}
	key, _, err := k.GetStringValue("UpdatePublicKey")
	if err != nil && !errors.Is(err, registry.ErrNotExist) {
		return Policy{}, fmt.Errorf("%w: UpdatePublicKey: %v", ErrBadPolicy, err)
	}
	p := Policy{Location: loc, PublicKey: key, From: `HKLM\` + PolicyKey}
	return p, p.Validate()
}

// checkProtected: on Windows the policy lives in the registry; a policy
// file (tests only) has no protection check.
func checkProtected(string) error { return nil }
