// Package firewall lets the seat port through the Windows firewall on a
// primary (親機), from private networks only. Tsunagu installs per user,
// without elevation, so the rule is added when an administrator asks for it:
// netsh run elevated (one UAC prompt). On Linux and macOS nothing is needed
// from Tsunagu (ErrNotNeeded): IT opens the port in its own firewall, if
// any (docs/install.md).
package firewall

import (
	"errors"
	"fmt"
	"strings"
)

var (
	// ErrNotNeeded: this OS has no firewall Tsunagu manages.
	ErrNotNeeded = errors.New("no firewall rule is needed on this OS")
	// ErrCancelled: the administrator declined the elevation prompt.
	ErrCancelled = errors.New("the elevation prompt was declined")
	// ErrNotAdded: netsh ran, but the rule did not appear.
	ErrNotAdded = errors.New("the firewall rule was not added")
)

// RuleName is the rule's name for port: one rule per port, so a port moved
// in the staff screen gets a rule of its own.
func RuleName(port int) string { return fmt.Sprintf("Tsunagu seats TCP %d", port) }

// AddArgs are netsh's arguments for the rule: inbound TCP on port, private
// network profile only, to program when given (the desktop app's path).
func AddArgs(program string, port int) ([]string, error) {
	if port < 1 || port > 65535 {
		return nil, fmt.Errorf("firewall rule: port %d out of range", port)
	}
	if strings.ContainsAny(program, "\"\r\n") {
		return nil, fmt.Errorf("firewall rule: program path %q cannot be quoted", program)
	}
	args := []string{"advfirewall", "firewall", "add", "rule",
		"name=" + RuleName(port), "dir=in", "action=allow", "protocol=TCP",
		fmt.Sprintf("localport=%d", port), "profile=private", "enable=yes"}
	if program != "" {
		args = append(args, "program="+program)
	}
	return args, nil
}

// ShowArgs are netsh's arguments that list the rule of port: netsh exits 0
// when it exists.
func ShowArgs(port int) []string {
	return []string{"advfirewall", "firewall", "show", "rule", "name=" + RuleName(port)}
}

// DeleteArgs are netsh's arguments that remove the rule of port (the
// uninstaller's, when its installer added the rule).
func DeleteArgs(port int) []string {
	return []string{"advfirewall", "firewall", "delete", "rule", "name=" + RuleName(port)}
}

// CommandLine joins netsh's arguments into the one parameter string the
// elevated start takes: a key=value whose value has a space is written
// key="value", as netsh reads it; a program path always is (the installer's
// is only known on the PC, and may have one).
func CommandLine(args []string) string {
	out := make([]string, len(args))
	for i, a := range args {
		k, v, ok := strings.Cut(a, "=")
		if ok && (k == "program" || strings.ContainsAny(v, " \t")) {
			a = k + `="` + v + `"`
		}
		out[i] = a
	}
	return strings.Join(out, " ")
}
