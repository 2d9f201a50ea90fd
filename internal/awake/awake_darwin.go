package awake

import (
	"os"
	"strconv"
)

// System is the sleep block of this OS. On macOS: caffeinate -i (an
// IOPMAssertion against idle sleep) for as long as this process lives (-w).
func System() Blocker {
	return procBlocker{name: "caffeinate", args: func(string) []string {
		return []string{"-i", "-w", strconv.Itoa(os.Getpid())}
	}}
}
