package desktop

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"time"
)

// endWebviewProcesses ends this process's children (WebKitGTK's network and
// web processes; the window is closed, so they have nothing left to do) and
// waits up to d for them to be gone: exited, or a zombie that writes
// nothing. Those still running after d are killed.
func endWebviewProcesses(d time.Duration) {
	kids := children(os.Getpid())
	for _, pid := range kids {
		_ = syscall.Kill(pid, syscall.SIGTERM)
	}
	deadline := time.Now().Add(d)
	for _, pid := range kids {
		for running(pid) {
			if time.Now().After(deadline) {
				_ = syscall.Kill(pid, syscall.SIGKILL)
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	for _, pid := range kids {
		for i := 0; i < 40 && running(pid); i++ {
			time.Sleep(50 * time.Millisecond)
		}
	}
}

// children are the processes whose parent is pid (from /proc).
func children(pid int) []int {
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	var out []int
	for _, p := range stats {
		ppid, state, ok := procStat(p)
		if ok && ppid == pid && state != 'Z' {
			if n, err := strconv.Atoi(filepath.Base(filepath.Dir(p))); err == nil {
				out = append(out, n)
			}
		}
	}
	return out
}

// running: pid exists and is not a zombie.
func running(pid int) bool {
	_, state, ok := procStat("/proc/" + strconv.Itoa(pid) + "/stat")
	return ok && state != 'Z'
}

// procStat reads a /proc/PID/stat file's parent and state. The command
// name (2nd field, in parentheses) may hold spaces: fields are counted
// after its closing parenthesis.
func procStat(path string) (ppid int, state byte, ok bool) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, 0, false
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, 0, false
	}
	f := bytes.Fields(b[i+1:])
	if len(f) < 2 || len(f[0]) != 1 {
		return 0, 0, false
	}
	ppid, err = strconv.Atoi(string(f[1]))
	return ppid, f[0][0], err == nil
}
