package export

import (
	"fmt"
	"io"

	"tsunagu/internal/atomicfile"
)

// WriteFile writes a report (a campaign's deliveries, a survey's answers)
// to path through write, which returns the rows it wrote. The file is
// written beside path and renamed into place only when complete, so a
// failed export leaves no partial file and never clobbers an older one;
// it is private to the user (0600): reports hold customer data.
func WriteFile(path string, write func(w io.Writer) (int, error)) (int, error) {
	var n int
	err := atomicfile.Write(path, func(w io.Writer) error {
		var err error
		n, err = write(w)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("export: %w", err)
	}
	return n, nil
}
