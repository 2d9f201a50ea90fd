// Package windowtest drives the real desktop binary under Xvfb (build tag
// windowtest; make test runs it inside .ci/keyring-session): what only the
// Wails window itself can show, such as its native desktop notifications.
package windowtest
