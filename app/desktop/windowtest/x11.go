//go:build windowtest && linux

package windowtest

/*
#cgo pkg-config: x11 xtst
#include <stdlib.h>
#include <X11/Xlib.h>
#include <X11/extensions/XTest.h>
*/
import "C"

import (
	"fmt"
	"time"
	"unsafe"
)

// display is a connection to an X server that types and clicks through
// XTEST, as a person at the keyboard would (there is no xdotool on the
// test machines; libXtst comes with GTK's development files).
type display struct{ d *C.Display }

func openDisplay(name string) (*display, error) {
	cs := C.CString(name)
	defer C.free(unsafe.Pointer(cs))
	d := C.XOpenDisplay(cs)
	if d == nil {
		return nil, fmt.Errorf("cannot open X display %s", name)
	}
	return &display{d: d}, nil
}

func (x *display) close() { C.XCloseDisplay(x.d) }

func (x *display) sync() {
	C.XSync(x.d, C.False)
	// Let GTK and WebKit handle the event before the next one.
	time.Sleep(30 * time.Millisecond)
}

// move puts the pointer at (px, py) on the screen.
func (x *display) move(px, py int) {
	C.XTestFakeMotionEvent(x.d, -1, C.int(px), C.int(py), 0)
	x.sync()
}

// click presses and releases the left button where the pointer is.
func (x *display) click() {
	C.XTestFakeButtonEvent(x.d, 1, C.True, 0)
	C.XTestFakeButtonEvent(x.d, 1, C.False, 0)
	x.sync()
}

// key presses and releases one key by its keysym name ("Tab", "Return",
// "a", "space").
func (x *display) key(name string) error {
	cs := C.CString(name)
	defer C.free(unsafe.Pointer(cs))
	sym := C.XStringToKeysym(cs)
	if sym == C.NoSymbol {
		return fmt.Errorf("no keysym %q", name)
	}
	code := C.XKeysymToKeycode(x.d, sym)
	if code == 0 {
		return fmt.Errorf("no key for %q", name)
	}
	C.XTestFakeKeyEvent(x.d, C.uint(code), C.True, 0)
	C.XTestFakeKeyEvent(x.d, C.uint(code), C.False, 0)
	x.sync()
	return nil
}

// typeText types lower-case letters, digits and spaces (no shift needed on
// Xvfb's default US layout).
func (x *display) typeText(s string) error {
	for _, r := range s {
		name := string(r)
		switch {
		case r == ' ':
			name = "space"
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
		default:
			return fmt.Errorf("typeText: %q needs more than one key", r)
		}
		if err := x.key(name); err != nil {
			return err
		}
	}
	return nil
}

// focusPointer gives the keyboard to whatever window is under the pointer:
// with no window manager, that is how a window becomes the active one.
func (x *display) focusPointer() {
	C.XSetInputFocus(x.d, C.PointerRoot, C.RevertToPointerRoot, C.CurrentTime)
	x.sync()
}

// focusNone takes the keyboard from every window, as switching to another
// program does: the app's window is then in the background.
func (x *display) focusNone() {
	C.XSetInputFocus(x.d, C.None, C.RevertToNone, C.CurrentTime)
	x.sync()
}
