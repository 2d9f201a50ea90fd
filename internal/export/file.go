package export

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// WriteFile writes a report (a campaign's deliveries, a survey's answers)
// to path through write, which returns the rows it wrote. The file is
// written beside path and renamed into place only when complete, so a
// failed export leaves no partial file and never clobbers an older one;
// it is private to the user (0600): reports hold customer data.
func WriteFile(path string, write func(w io.Writer) (int, error)) (int, error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tsunagu-export-*")
	if err != nil {
		return 0, fmt.Errorf("export: %w", err)
	}
	defer os.Remove(tmp.Name()) // no-op after the rename
	bw := bufio.NewWriterSize(tmp, 256<<10)
	n, err := write(bw)
	if err == nil {
		err = bw.Flush()
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		return 0, fmt.Errorf("export to %s: %w", filepath.Base(path), err)
	}
	return n, nil
}
