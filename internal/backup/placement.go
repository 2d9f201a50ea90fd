package backup

import (
	"os"
	"path/filepath"
	"strings"
)

// Placement says whether a backup folder survives the loss of this PC's
// data: a folder inside the data folder, or anywhere on the same disk, is
// lost with the disk (or the PC), and the screen warns about it.
type Placement struct {
	InsideDataDir bool `json:"insideDataDir"`
	SameDisk      bool `json:"sameDisk"`
}

// Placement of dir relative to this data folder. A folder that does not
// exist yet is judged by its nearest existing parent (where it will be
// created); a relative or empty dir is judged as the default one.
func (s *Service) Placement(dir string) Placement {
	if dir == "" || !filepath.IsAbs(dir) {
		dir = filepath.Join(s.dataDir, DefaultDirName)
	}
	return placement(s.dataDir, dir)
}

func placement(dataDir, dir string) Placement {
	data, target := filepath.Clean(dataDir), filepath.Clean(dir)
	if a, err := filepath.EvalSymlinks(data); err == nil {
		data = a
	}
	target = existingAncestor(target)
	if a, err := filepath.EvalSymlinks(target); err == nil {
		target = a
	}
	var p Placement
	if rel, err := filepath.Rel(data, target); err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		p.InsideDataDir = true
	}
	p.SameDisk = p.InsideDataDir || sameDevice(data, target)
	return p
}

// existingAncestor is path itself or its nearest parent that exists.
func existingAncestor(path string) string {
	for {
		if _, err := os.Stat(path); err == nil {
			return path
		}
		parent := filepath.Dir(path)
		if parent == path {
			return path
		}
		path = parent
	}
}
