package firewall

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The installer's rule is the staff screen's rule: the checked-in include is
// what InstallerInclude writes now.
func TestInstallerIncludeIsCurrent(t *testing.T) {
	want, err := InstallerInclude()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("..", "..", "..", "build", "windows", "installer", "firewall.nsh")
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != want {
		if os.Getenv("TSUNAGU_UPDATE") == "1" {
			if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
				t.Fatal(err)
			}
			return
		}
		t.Fatalf("%s is out of date (TSUNAGU_UPDATE=1 go test ./internal/seat/firewall rewrites it); want:\n%s", path, want)
	}
	for _, part := range []string{`profile=private`, `localport=7443`, `program="$INSTDIR\${PRODUCT_EXECUTABLE}"`, `delete rule name="Tsunagu seats TCP 7443"`} {
		if !strings.Contains(want, part) {
			t.Errorf("the include lacks %s:\n%s", part, want)
		}
	}
}
