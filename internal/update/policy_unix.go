//go:build !windows

package update

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"syscall"
)

// PolicyPaths are the admin-owned places the policy file is read from.
func PolicyPaths() []string {
	if runtime.GOOS == "darwin" {
		return []string{"/Library/Application Support/Tsunagu/" + PolicyFileName}
	}
	return []string{"/etc/tsunagu/" + PolicyFileName}
}

// LoadPolicy reads the machine's policy (ErrNotConfigured if there is none).
func LoadPolicy() (Policy, error) {
	for _, p := range PolicyPaths() {
		pol, err := ReadPolicyFile(p, true)
		if errors.Is(err, ErrNotConfigured) && pol.From == "" {
			continue
		}
		return pol, err
	}
	return Policy{}, ErrNotConfigured
}

// checkProtected requires the file and its folder to be owned by root and
// not writable by group or others.
func checkProtected(path string) error {
	for _, p := range []string{path, filepath.Dir(path)} {
		st, err := os.Stat(p)
		if err != nil {
			return err
		}
		sys, ok := st.Sys().(*syscall.Stat_t)
		if !ok {
			return errors.New("cannot read the owner")
		}
		if sys.Uid != 0 {
			return fmt.Errorf("%s is not owned by root", p)
		}
		if st.Mode().Perm()&0o022 != 0 {
			return fmt.Errorf("%s is writable by group or others", p)
		}
	}
	return nil
}
