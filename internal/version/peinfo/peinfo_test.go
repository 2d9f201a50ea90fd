package peinfo

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// makeInstaller builds a minimal NSIS installer (makensis is what
// `make package-windows` uses; it takes well under a second) with the given
// version resource.
func makeInstaller(t *testing.T, ver, product string) string {
	t.Helper()
	if _, err := exec.LookPath("makensis"); err != nil {
		t.Skip("makensis is not installed (.ci/install-deps installs nsis)")
	}
	dir := t.TempDir()
	out := filepath.Join(dir, "setup.exe")
	script := `Unicode true
OutFile "` + out + `"
RequestExecutionLevel user
VIProductVersion "` + ver + `"
VIFileVersion "` + ver + `"
VIAddVersionKey "ProductName" "` + product + `"
VIAddVersionKey "CompanyName" "Tsunagu"
VIAddVersionKey "ProductVersion" "` + ver + `"
VIAddVersionKey "FileVersion" "` + ver + `"
VIAddVersionKey "FileDescription" "test"
Section
SectionEnd
`
	nsi := filepath.Join(dir, "t.nsi")
	if err := os.WriteFile(nsi, []byte(script), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("makensis", "-V2", "-INPUTCHARSET", "UTF8", nsi).CombinedOutput(); err != nil {
		t.Fatalf("makensis: %v\n%s", err, out)
	}
	return out
}

func TestReadInstallerVersion(t *testing.T) {
	exe := makeInstaller(t, "1.2.3.45", "つなぐ Tsunagu")
	info, err := Read(exe)
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	if info.FileVersion != "1.2.3.45" || info.ProductVersion != "1.2.3.45" {
		t.Fatalf("versions %+v", info)
	}
	if info.Strings["ProductName"] != "つなぐ Tsunagu" || info.Strings["CompanyName"] != "Tsunagu" {
		t.Fatalf("strings %v", info.Strings)
	}
	tests := []struct {
		want, product string
		ok            bool
	}{
		{"1.2.3.45", "つなぐ Tsunagu", true},
		{"1.2.3.45", "", true},
		{"1.2.3.46", "つなぐ Tsunagu", false},
		{"1.2.3.0", "", false},
		{"1.2.3.45", "Other", false},
	}
	for _, tt := range tests {
		if err := info.Check(tt.want, tt.product); (err == nil) != tt.ok {
			t.Errorf("Check(%s, %q) = %v, want ok=%v", tt.want, tt.product, err, tt.ok)
		}
	}
}

func TestReadRejectsNonPE(t *testing.T) {
	p := filepath.Join(t.TempDir(), "x.exe")
	if err := os.WriteFile(p, []byte("MZ not really"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Read(p); err == nil {
		t.Fatal("a non-PE file was read")
	}
}
