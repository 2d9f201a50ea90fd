package backup

import (
	"os"
	"path/filepath"
	"testing"
)

// The default folder is inside the data folder; a sibling folder on the
// same filesystem is not inside but on the same disk (issue 19, item 15).
func TestPlacement(t *testing.T) {
	root := t.TempDir()
	data := filepath.Join(root, "data")
	if err := os.MkdirAll(data, 0o700); err != nil {
		t.Fatal(err)
	}
	s := &Service{dataDir: data}
	for name, tc := range map[string]struct {
		dir  string
		want Placement
	}{
		"default":               {"", Placement{InsideDataDir: true, SameDisk: true}},
		"inside, not yet made":  {filepath.Join(data, "backups", "x"), Placement{InsideDataDir: true, SameDisk: true}},
		"sibling, not yet made": {filepath.Join(root, "elsewhere", "b"), Placement{SameDisk: true}},
		"data folder's prefix":  {data + "-backups", Placement{SameDisk: true}},
	} {
		if got := s.Placement(tc.dir); got != tc.want {
			t.Errorf("%s: %+v, want %+v", name, got, tc.want)
		}
	}
}
