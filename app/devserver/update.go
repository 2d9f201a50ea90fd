package main

import (
	"fmt"

	"tsunagu/app/facade"
	"tsunagu/internal/update"
)

// devUpdates wires the update check for UI tests: the policy comes from a
// file given on the command line (the desktop app reads only the machine's
// admin-only policy), and "installing" prints the verified installer's path
// instead of running it.
func devUpdates(policyFile string) facade.UpdateOptions {
	if policyFile == "" {
		return facade.UpdateOptions{Launch: func(string) error { return fmt.Errorf("the dev bridge never runs installers") }}
	}
	return facade.UpdateOptions{
		Policy: func() (update.Policy, error) { return update.ReadPolicyFile(policyFile, false) },
		Launch: func(path string) error {
			fmt.Printf("UPDATE-LAUNCH %s\n", path)
			return nil
		},
		Quit: func() { fmt.Println("UPDATE-QUIT") },
	}
}
