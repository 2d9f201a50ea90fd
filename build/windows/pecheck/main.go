// Command pecheck fails unless each file is a PE executable whose version
// resource holds the expected version (used by `make test-package`):
//
//	go run ./build/windows/pecheck -version 1.2.3.4 -product "つなぐ Tsunagu" FILE...
package main

import (
	"flag"
	"fmt"
	"os"

	"tsunagu/internal/version/peinfo"
)

func main() {
	want := flag.String("version", "", "expected file and product version, x.y.z.w")
	product := flag.String("product", "", "expected ProductName (optional)")
	flag.Parse()
	if *want == "" || flag.NArg() == 0 {
		fmt.Fprintln(os.Stderr, "usage: pecheck -version x.y.z.w [-product NAME] FILE...")
		os.Exit(2)
	}
	failed := false
	for _, path := range flag.Args() {
		info, err := peinfo.Read(path)
		if err == nil {
			err = info.Check(*want, *product)
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "pecheck: %s: %v\n", path, err)
			failed = true
			continue
		}
		fmt.Printf("pecheck: %s: PE, version %s, %s\n", path, info.FileVersion, info.Strings["ProductName"])
	}
	if failed {
		os.Exit(1)
	}
}
