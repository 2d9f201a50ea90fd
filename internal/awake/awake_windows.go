package awake

import (
	"fmt"
	"runtime"

	"golang.org/x/sys/windows"
)

// Execution-state flags of SetThreadExecutionState (winbase.h).
const (
	esContinuous     = 0x80000000
	esSystemRequired = 0x00000001
)

var setThreadExecutionState = windows.NewLazySystemDLL("kernel32.dll").NewProc("SetThreadExecutionState")

// System is the sleep block of this OS. On Windows: the power request API,
// SetThreadExecutionState(ES_CONTINUOUS|ES_SYSTEM_REQUIRED). The state
// belongs to the calling thread, so one locked OS thread takes it and
// gives it back.
func System() Blocker { return winBlocker{} }

type winBlocker struct{}

func (winBlocker) Block(string) (func() error, error) {
	if err := setThreadExecutionState.Find(); err != nil {
		return nil, fmt.Errorf("SetThreadExecutionState: %w", ErrUnsupported)
	}
	taken := make(chan error, 1)
	stop := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		if r, _, err := setThreadExecutionState.Call(esContinuous | esSystemRequired); r == 0 {
			taken <- fmt.Errorf("SetThreadExecutionState: %w", err)
			return
		}
		taken <- nil
		<-stop
		if r, _, err := setThreadExecutionState.Call(esContinuous); r == 0 {
			done <- fmt.Errorf("SetThreadExecutionState(ES_CONTINUOUS): %w", err)
			return
		}
		done <- nil
	}()
	if err := <-taken; err != nil {
		return nil, err
	}
	return func() error { close(stop); return <-done }, nil
}
