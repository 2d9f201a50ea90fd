package awake

// System is the sleep block of this OS. On Linux: systemd-inhibit (logind)
// holding "sleep:idle" while a child `sleep infinity` runs; best effort: a
// desktop without logind has nothing to ask, and its own power settings
// decide (docs/install.md).
func System() Blocker { return linuxBlocker("systemd-inhibit") }

func linuxBlocker(cmd string) Blocker {
	return procBlocker{name: cmd, args: func(why string) []string {
		return []string{"--what=sleep:idle", "--who=Tsunagu", "--why=" + why, "--mode=block", "sleep", "infinity"}
	}}
}
