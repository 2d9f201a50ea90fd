//go:build !windows

package backup

import (
	"os"
	"syscall"
)

// sameDevice reports whether both paths live on one filesystem (st_dev):
// a USB drive or a mounted NAS share is another device. Unknown: false.
func sameDevice(a, b string) bool {
	sa, errA := os.Stat(a)
	sb, errB := os.Stat(b)
	if errA != nil || errB != nil {
		return false
	}
	da, okA := sa.Sys().(*syscall.Stat_t)
	db, okB := sb.Sys().(*syscall.Stat_t)
	return okA && okB && da.Dev == db.Dev
}
