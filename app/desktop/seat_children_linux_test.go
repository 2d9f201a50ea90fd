package desktop

import (
	"os"
	"os/exec"
	"slices"
	"testing"
	"time"
)

// The WebView's processes are this process's children: found, ended and
// waited for before its folder is removed.
func TestEndWebviewProcesses(t *testing.T) {
	cmd := exec.Command("sleep", "60")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	pid := cmd.Process.Pid
	if kids := children(os.Getpid()); !slices.Contains(kids, pid) {
		t.Fatalf("children %v miss %d", kids, pid)
	}
	if !running(pid) {
		t.Fatal("the child is not running")
	}
	endWebviewProcesses(30 * time.Second)
	if running(pid) {
		t.Fatal("the child still runs")
	}
	_ = cmd.Wait()
	if slices.Contains(children(os.Getpid()), pid) {
		t.Fatal("a reaped child is still listed")
	}
}
