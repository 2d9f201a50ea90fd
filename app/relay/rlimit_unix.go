//go:build unix

package main

import "syscall"

// raiseFileLimit raises the soft limit on open files to the hard limit and
// returns it (0 if unknown). Go's runtime does the same at start on Linux;
// doing it here too makes it explicit and gives the figure the connection
// bound is derived from.
func raiseFileLimit() uint64 {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		return 0
	}
	if rl.Cur < rl.Max {
		rl.Cur = rl.Max
		if syscall.Setrlimit(syscall.RLIMIT_NOFILE, &rl) != nil {
			syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl)
		}
	}
	return rl.Cur
}
