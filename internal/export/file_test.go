package export

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

func TestWriteFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "report.csv")
	n, err := WriteFile(path, func(w io.Writer) (int, error) {
		_, err := io.WriteString(w, "a,b\n1,2\n")
		return 1, err
	})
	if err != nil || n != 1 {
		t.Fatalf("WriteFile = %d, %v", n, err)
	}
	b, err := os.ReadFile(path)
	if err != nil || string(b) != "a,b\n1,2\n" {
		t.Fatalf("file: %q %v", b, err)
	}
	if fi, _ := os.Stat(path); runtime.GOOS != "windows" && fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", fi.Mode().Perm())
	}

	// A failed export keeps the earlier file and leaves nothing behind.
	boom := errors.New("boom")
	if _, err := WriteFile(path, func(w io.Writer) (int, error) {
		io.WriteString(w, "partial")
		return 0, boom
	}); !errors.Is(err, boom) {
		t.Fatalf("failed write: %v", err)
	}
	if b, _ := os.ReadFile(path); string(b) != "a,b\n1,2\n" {
		t.Fatalf("earlier file clobbered: %q", b)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Fatalf("left behind: %v", entries)
	}
}
