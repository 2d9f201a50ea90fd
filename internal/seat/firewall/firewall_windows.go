//go:build windows

package firewall

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"syscall"
	"time"

	"golang.org/x/sys/windows"
)

// Allow runs netsh elevated ("runas": the UAC prompt) to add the rule of
// port for program, then waits until the rule is there (ShellExecute does
// not wait for netsh). ctx bounds the wait.
func Allow(ctx context.Context, program string, port int) error {
	args, err := AddArgs(program, port)
	if err != nil {
		return err
	}
	verb, _ := windows.UTF16PtrFromString("runas")
	file, _ := windows.UTF16PtrFromString("netsh.exe")
	params, err := windows.UTF16PtrFromString(CommandLine(args))
	if err != nil {
		return fmt.Errorf("firewall rule: %w", err)
	}
	if err := windows.ShellExecute(0, verb, file, params, nil, windows.SW_HIDE); err != nil {
		if errors.Is(err, windows.ERROR_CANCELLED) {
			return ErrCancelled
		}
		return fmt.Errorf("firewall rule: start netsh elevated: %w", err)
	}
	t := time.NewTicker(250 * time.Millisecond)
	defer t.Stop()
	for {
		ok, err := Exists(ctx, port)
		if err != nil {
			return err
		}
		if ok {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w: %w", ErrNotAdded, ctx.Err())
		case <-t.C:
		}
	}
}

// Exists reports whether the rule of port exists (netsh show, which needs
// no elevation).
func Exists(ctx context.Context, port int) (bool, error) {
	cmd := exec.CommandContext(ctx, "netsh", ShowArgs(port)...)
	cmd.SysProcAttr = &syscall.SysProcAttr{HideWindow: true}
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return true, nil
	case errors.As(err, &ee):
		return false, nil // "No rules match the specified criteria."
	default:
		return false, fmt.Errorf("firewall rule: netsh: %w", err)
	}
}
