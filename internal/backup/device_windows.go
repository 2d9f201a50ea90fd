//go:build windows

package backup

import (
	"path/filepath"
	"strings"
)

// sameDevice reports whether both paths are on one drive letter (or one
// UNC share): another drive or a NAS share is not.
func sameDevice(a, b string) bool {
	va, vb := filepath.VolumeName(a), filepath.VolumeName(b)
	return va != "" && strings.EqualFold(va, vb)
}
