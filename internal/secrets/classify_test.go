package secrets

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"

	"github.com/godbus/dbus/v5"
	"github.com/zalando/go-keyring"
)

func TestClassify(t *testing.T) {
	// The shapes below are what go-keyring and godbus actually return; the
	// Secret Service ones were observed against gnome-keyring.
	dialErr := &net.OpError{Op: "dial", Net: "unix", Err: os.NewSyscallError("connect", syscall.ENOENT)}
	exitErr := func(code int) error {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), fmt.Sprintf("TSUNAGU_SECRETS_EXIT=%d", code))
		err := cmd.Run()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != code {
			t.Fatalf("could not produce exit status %d: %v", code, err)
		}
		return err
	}
	other := errors.New("something else")

	for _, tc := range []struct {
		name string
		goos string
		err  error
		want error // nil: returned unchanged
	}{
		{"go-keyring not found", "linux", keyring.ErrNotFound, ErrNotFound},
		{"go-keyring not found, wrapped", "darwin", fmt.Errorf("x: %w", keyring.ErrNotFound), ErrNotFound},
		{"already classified", "linux", ErrLocked, ErrLocked},
		{"unsupported platform", "plan9", keyring.ErrUnsupportedPlatform, ErrUnavailable},

		{"secret service: collection locked, prompt failed", "linux",
			errors.New("failed to unlock correct collection '/org/freedesktop/secrets/collection/login'"), ErrLocked},
		{"secret service: IsLocked", "linux",
			dbus.Error{Name: "org.freedesktop.Secret.Error.IsLocked", Body: []any{"Cannot get secret of a locked object"}}, ErrLocked},
		{"secret service: IsLocked as pointer", "linux",
			&dbus.Error{Name: "org.freedesktop.Secret.Error.IsLocked"}, ErrLocked},
		{"secret service: access denied", "linux",
			dbus.Error{Name: "org.freedesktop.DBus.Error.AccessDenied"}, ErrLocked},
		{"secret service not installed", "linux",
			dbus.Error{Name: "org.freedesktop.DBus.Error.ServiceUnknown", Body: []any{"The name org.freedesktop.secrets was not provided by any .service files"}}, ErrUnavailable},
		{"secret service failed to start", "linux",
			dbus.Error{Name: "org.freedesktop.DBus.Error.Spawn.ChildExited"}, ErrUnavailable},
		{"no default collection", "linux",
			dbus.Error{Name: "org.freedesktop.Secret.Error.NoSuchObject"}, ErrUnavailable},
		{"no session bus address", "linux",
			errors.New("dbus: couldn't determine address of session bus"), ErrUnavailable},
		{"session bus socket gone", "linux", dialErr, ErrUnavailable},
		{"no dbus-launch", "linux", &exec.Error{Name: "dbus-launch", Err: exec.ErrNotFound}, ErrUnavailable},
		{"other dbus error", "linux", dbus.Error{Name: "org.example.Error.Whatever"}, nil},
		{"other error", "linux", other, nil},

		{"macOS interaction not allowed", "darwin", exitErr(36), ErrLocked},
		{"macOS user cancelled", "darwin", exitErr(128), ErrLocked},
		{"macOS other exit status", "darwin", exitErr(1), nil},
		{"macOS: dbus-looking text means nothing", "darwin", errors.New("dbus: x"), nil},

		{"windows no logon session", "windows", syscall.Errno(1312), ErrUnavailable},
		{"windows other errno", "windows", syscall.Errno(2), nil},

		{"context", "linux", context.Canceled, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := classifyFor(tc.goos, tc.err)
			for _, s := range []error{ErrNotFound, ErrLocked, ErrUnavailable} {
				if s != tc.want && errors.Is(got, s) {
					t.Fatalf("classify(%v) = %v, matches %v", tc.err, got, s)
				}
			}
			if tc.want == nil {
				// Compared by message: dbus.Error values are not comparable.
				if got.Error() != tc.err.Error() {
					t.Fatalf("classify changed %v to %v", tc.err, got)
				}
				return
			}
			if !errors.Is(got, tc.want) {
				t.Fatalf("classify(%v) = %v, want %v", tc.err, got, tc.want)
			}
			if tc.want != ErrNotFound && !strings.Contains(got.Error(), tc.err.Error()) {
				t.Fatalf("classify dropped the original error's message: %v", got)
			}
		})
	}
}
