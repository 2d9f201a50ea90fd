package formpage_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"tsunagu/internal/relay/formpage"
)

// The booking page stays under the same budget as the form page (150 KB
// compressed before fonts), is inlined safely, and the embedded build is
// the one its sources make (`make forms-page`).
func TestBookingPageBudgetAndBuild(t *testing.T) {
	js, css := formpage.BookingScript(), formpage.BookingStyle()
	if n := gz(js) + gz(css); n > 150_000 {
		t.Fatalf("booking page is %d bytes gzipped, over the 150 KB budget", n)
	} else {
		t.Logf("booking page: script %d + style %d bytes gzipped", gz(js), gz(css))
	}
	if bytes.Contains(bytes.ToLower(js), []byte("</script")) || bytes.Contains(bytes.ToLower(css), []byte("</style")) {
		t.Fatal("the inlined script or style would close its element")
	}
	fe := frontend(t)
	tmp := t.TempDir()
	run(t, fe, filepath.Join(fe, "node_modules", ".bin", "rolldown"), filepath.Join(fe, "forms-page", "src", "booking.ts"),
		"--format", "iife", "--minify", "--platform", "browser", "--file", filepath.Join(tmp, "booking.js"))
	built, err := os.ReadFile(filepath.Join(tmp, "booking.js"))
	if err != nil {
		t.Fatal(err)
	}
	src, _ := os.ReadFile(filepath.Join(fe, "forms-page", "src", "booking.css"))
	if !bytes.Equal(built, js) || !bytes.Equal(src, css) {
		t.Fatal("internal/relay/formpage is stale: run make forms-page")
	}
}
