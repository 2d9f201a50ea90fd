package secrets

import (
	"errors"
	"fmt"
	"net"
	"os/exec"
	"runtime"
	"strings"
	"syscall"

	"github.com/godbus/dbus/v5"
	"github.com/zalando/go-keyring"
)

// classify maps a keychain backend's error to ErrNotFound, or wraps it in
// ErrLocked or ErrUnavailable when it is recognised as such, so callers can
// tell "first run", "ask the user to unlock" and "no keychain on this
// machine" apart without knowing the backend. Anything else is returned
// unchanged.
func classify(err error) error { return classifyFor(runtime.GOOS, err) }

// classifyFor is classify for a given GOOS, so every platform's mapping is
// tested on every platform.
func classifyFor(goos string, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ErrNotFound), errors.Is(err, ErrLocked),
		errors.Is(err, ErrUnavailable), errors.Is(err, ErrExists):
		return err
	case errors.Is(err, keyring.ErrNotFound):
		return ErrNotFound
	case errors.Is(err, keyring.ErrUnsupportedPlatform):
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}

	var kind error
	switch goos {
	case "darwin":
		kind = classifyMacOS(err)
	case "windows":
		kind = classifyWindows(err)
	default:
		kind = classifySecretService(err)
	}
	if kind == nil {
		return err
	}
	return fmt.Errorf("%w: %w", kind, err)
}

// classifySecretService recognises errors from go-keyring's Secret Service
// backend and from godbus underneath it.
func classifySecretService(err error) error {
	name := ""
	var de dbus.Error
	var dep *dbus.Error
	switch {
	case errors.As(err, &de):
		name = de.Name
	case errors.As(err, &dep):
		name = dep.Name
	}
	switch {
	case name == "org.freedesktop.Secret.Error.IsLocked",
		name == "org.freedesktop.DBus.Error.AccessDenied":
		return ErrLocked
	case name == "org.freedesktop.DBus.Error.ServiceUnknown", // no Secret Service installed
		name == "org.freedesktop.DBus.Error.NameHasNoOwner",
		name == "org.freedesktop.DBus.Error.NoServer",
		name == "org.freedesktop.DBus.Error.NoReply",
		name == "org.freedesktop.DBus.Error.Timeout",
		name == "org.freedesktop.DBus.Error.Disconnected",
		name == "org.freedesktop.DBus.Error.UnknownObject", // e.g. no default collection
		name == "org.freedesktop.DBus.Error.UnknownMethod",
		name == "org.freedesktop.Secret.Error.NoSuchObject",
		strings.HasPrefix(name, "org.freedesktop.DBus.Error.Spawn."): // service failed to start
		return ErrUnavailable
	case name != "":
		return nil
	}

	// go-keyring returns this plain error when Unlock comes back without the
	// collection: the collection is locked and the unlock prompt was
	// dismissed, failed or could not be shown (no display).
	if strings.Contains(err.Error(), "failed to unlock correct collection") {
		return ErrLocked
	}
	// No session bus: godbus's own errors, a dead bus socket, or no
	// dbus-launch to start one.
	var opErr *net.OpError
	if errors.As(err, &opErr) || errors.Is(err, exec.ErrNotFound) ||
		strings.HasPrefix(err.Error(), "dbus: ") {
		return ErrUnavailable
	}
	return nil
}

// classifyMacOS recognises exit statuses of /usr/bin/security, which
// go-keyring runs: the tool exits with the low byte of the OSStatus.
func classifyMacOS(err error) error {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		switch ee.ExitCode() {
		case 36, // errSecInteractionNotAllowed (-25308): locked, no UI allowed
			51,  // errSecAuthFailed (-25293)
			128: // errSecUserCanceled (-128): the user clicked Deny/Cancel
			return ErrLocked
		}
	}
	if errors.Is(err, exec.ErrNotFound) {
		return ErrUnavailable
	}
	return nil
}

// classifyWindows recognises Credential Manager errors.
func classifyWindows(err error) error {
	var errno syscall.Errno
	if errors.As(err, &errno) && errno == 1312 {
		// ERROR_NO_SUCH_LOGON_SESSION: no user profile loaded, e.g. a
		// service account or a scheduled task without "run only when
		// logged on".
		return ErrUnavailable
	}
	return nil
}
