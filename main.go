// Command tsunagu is the Tsunagu desktop app (Wails). The engine lives in
// internal/, the window and bindings in app/desktop.
package main

import (
	"embed"
	"fmt"
	"io/fs"
	"os"

	"tsunagu/app/desktop"
	"tsunagu/internal/version"
)

//go:embed all:frontend/dist
var assets embed.FS

func main() {
	dist, err := fs.Sub(assets, "frontend/dist")
	if err != nil {
		fmt.Fprintln(os.Stderr, "tsunagu:", err)
		os.Exit(1)
	}
	if err := desktop.Run(desktop.Config{Assets: dist, Version: version.Version}); err != nil {
		fmt.Fprintln(os.Stderr, "tsunagu:", err)
		os.Exit(1)
	}
}
