// Package archtest holds the design rules of /work/shared/design.md ("the map
// of the code") as tests, in the manner of tailscale's tstest/deptest: each
// rule reads the real import graph (go list) or the real sources and fails
// naming the package or file that breaks it.
package archtest

import (
	"bytes"
	"encoding/json"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
)

const module = "tsunagu"

// pkg is what go list says of one package.
type pkg struct {
	ImportPath string
	Imports    []string // direct, non-test
	Deps       []string // transitive, non-test
}

var (
	listOnce sync.Once
	listed   map[string]pkg
	listErr  error
)

// root is the module's folder.
func root(t *testing.T) string {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// packages lists every package of the module with the desktop's build
// tags, so the Wails program's imports are seen too.
func packages(t *testing.T) map[string]pkg {
	t.Helper()
	listOnce.Do(func() {
		cmd := exec.Command("go", "list", "-tags", "desktop,production,webkit2_41", "-json=ImportPath,Imports,Deps", "./...")
		cmd.Dir = root(t)
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		if err := cmd.Run(); err != nil {
			listErr = &listError{err, errb.String()}
			return
		}
		listed = map[string]pkg{}
		dec := json.NewDecoder(&out)
		for dec.More() {
			var p pkg
			if err := dec.Decode(&p); err != nil {
				listErr = err
				return
			}
			listed[p.ImportPath] = p
		}
	})
	if listErr != nil {
		t.Fatalf("go list: %v", listErr)
	}
	return listed
}

type listError struct {
	err    error
	stderr string
}

func (e *listError) Error() string { return e.err.Error() + ": " + e.stderr }

func under(path, prefix string) bool { return path == prefix || strings.HasPrefix(path, prefix+"/") }

// importedOnlyBy fails for every package outside owners that imports a
// package under any of libs directly.
func importedOnlyBy(t *testing.T, libs []string, owners ...string) {
	t.Helper()
	for _, p := range packages(t) {
		if slices.ContainsFunc(owners, func(o string) bool { return under(p.ImportPath, o) }) {
			continue
		}
		for _, imp := range p.Imports {
			for _, lib := range libs {
				if under(imp, lib) {
					t.Errorf("%s imports %s; only %s may", p.ImportPath, imp, strings.Join(owners, ", "))
				}
			}
		}
	}
}

// Layers point down: nothing in internal/ imports a program in app/.
func TestInternalNeverImportsApp(t *testing.T) {
	for _, p := range packages(t) {
		if !under(p.ImportPath, module+"/internal") {
			continue
		}
		for _, imp := range p.Imports {
			if under(imp, module+"/app") || imp == module {
				t.Errorf("%s imports the program %s", p.ImportPath, imp)
			}
		}
	}
}

// The relay is a small public service: it links no Wails, no GTK, no
// SQLite, no keychain, nothing of the customer DB or of the desktop's
// features, and so can never hold plaintext customer data.
func TestRelayLinksNoDesktopParts(t *testing.T) {
	relay, ok := packages(t)[module+"/app/relay"]
	if !ok {
		t.Fatal("app/relay not found")
	}
	forbidden := []string{
		"github.com/wailsapp", "github.com/webview", // the window
		"github.com/ncruces/go-sqlite3", "github.com/mattn/go-sqlite3", "modernc.org/sqlite", // SQLite
		"github.com/zalando/go-keyring", "github.com/godbus", "github.com/danieljoos/wincred", // the keychain
		"github.com/line/line-bot-sdk-go", // LINE's API is the desktop's business
	}
	allowed := []string{module + "/app/relay", module + "/internal/relay", module + "/internal/version"}
	for _, d := range relay.Deps {
		for _, f := range forbidden {
			if under(d, f) {
				t.Errorf("tsunagu-relay links %s", d)
			}
		}
		if under(d, module) && !slices.ContainsFunc(allowed, func(a string) bool { return under(d, a) }) {
			t.Errorf("tsunagu-relay links %s; it may link only %s", d, strings.Join(allowed, ", "))
		}
	}
}

// The command line and the dev server link no window.
func TestCLIAndDevServerLinkNoWindow(t *testing.T) {
	for _, prog := range []string{"app/cli", "app/devserver"} {
		p, ok := packages(t)[module+"/"+prog]
		if !ok {
			t.Fatalf("%s not found", prog)
		}
		for _, d := range p.Deps {
			if under(d, "github.com/wailsapp") {
				t.Errorf("%s links %s", prog, d)
			}
		}
	}
}

// Only internal/secrets touches the OS keychain.
func TestOnlySecretsImportsTheKeychain(t *testing.T) {
	importedOnlyBy(t, []string{"github.com/zalando/go-keyring"}, module+"/internal/secrets")
}

// Only internal/seat/discover speaks multicast DNS, and it refuses to from a
// test binary outside a loopback-only network namespace (its ErrNotIsolated).
func TestOnlyDiscoverSpeaksMDNS(t *testing.T) {
	importedOnlyBy(t, []string{"github.com/hashicorp/mdns", "github.com/miekg/dns"}, module+"/internal/seat/discover")
}

// Only internal/line speaks the LINE SDK; other packages see Tsunagu's own
// types.
func TestOnlyLineImportsTheLINESDK(t *testing.T) {
	importedOnlyBy(t, []string{"github.com/line/line-bot-sdk-go"}, module+"/internal/line")
}

// One text normaliser: width folding (the core of every search key) lives
// in internal/textfold only; a second folding elsewhere would let a search
// and the value it compares disagree (ＬＩＮＥ vs LINE, 髙橋 vs 高橋).
func TestOneTextNormaliser(t *testing.T) {
	importedOnlyBy(t, []string{"golang.org/x/text/width"}, module+"/internal/textfold")
	for _, p := range packages(t) {
		if under(p.ImportPath, module+"/internal/textfold") {
			for _, imp := range p.Imports {
				if under(imp, module) {
					t.Errorf("%s imports %s: the normaliser is a leaf the store can use", p.ImportPath, imp)
				}
			}
		}
	}
}

// Only the desktop program calls Wails.
func TestOnlyDesktopImportsWails(t *testing.T) {
	importedOnlyBy(t, []string{"github.com/wailsapp/wails"}, module+"/app/desktop", module)
}

// The store knows SQL, migrations and encryption, nothing of any feature.
// It registers the one search key (internal/textfold, which imports nothing
// of Tsunagu) as a SQL function.
func TestStoreKnowsNoFeature(t *testing.T) {
	for _, p := range packages(t) {
		if !under(p.ImportPath, module+"/internal/store") {
			continue
		}
		for _, imp := range p.Imports {
			if under(imp, module) && !under(imp, module+"/internal/store") && imp != module+"/internal/textfold" {
				t.Errorf("%s imports %s", p.ImportPath, imp)
			}
		}
	}
}

// In the frontend only src/api touches the Wails bindings or runtime:
// views and composables go through the typed client.
func TestOnlyFrontendAPITouchesWails(t *testing.T) {
	src := filepath.Join(root(t), "frontend", "src")
	patterns := []*regexp.Regexp{
		regexp.MustCompile(`\bwindow\s*(\?\.|\.)\s*(go|runtime)\b`),
		regexp.MustCompile(`\(\s*(window|globalThis)\s+as\b[^)]*\)\s*(\?\.|\.)\s*(go|runtime)\b`),
		regexp.MustCompile(`\bglobalThis\s+as\s*\{[^}]*\b(go|runtime)\b`),
		regexp.MustCompile(`wailsjs/`),
	}
	n := 0
	err := filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		if d.IsDir() {
			if rel == "api" || rel == "wailsjs" {
				return filepath.SkipDir
			}
			return nil
		}
		if ext := filepath.Ext(path); ext != ".ts" && ext != ".vue" {
			return nil
		}
		n++
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, re := range patterns {
			if loc := re.FindIndex(data); loc != nil {
				line := bytes.Count(data[:loc[0]], []byte("\n")) + 1
				t.Errorf("frontend/src/%s:%d touches the Wails runtime (%q); go through src/api", filepath.ToSlash(rel), line, data[loc[0]:loc[1]])
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n < 20 {
		t.Fatalf("only %d frontend sources found under %s", n, src)
	}
}

// The programs use the engine's services; they never reach past them into
// its database or keychain items (engine.DB, engine.Secrets are for tests
// and the engine's own packages), so every rule stays in internal/.
func TestProgramsUseServicesNotTheDB(t *testing.T) {
	reach := regexp.MustCompile(`\.(DB|Secrets)\(\)`)
	n := 0
	err := filepath.WalkDir(filepath.Join(root(t), "app"), func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return err
		}
		n++
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for i, line := range strings.Split(string(data), "\n") {
			if loc := reach.FindStringIndex(line); loc != nil {
				rel, _ := filepath.Rel(root(t), path)
				t.Errorf("%s:%d reaches into the engine (%q); call one of its services", filepath.ToSlash(rel), i+1, line[loc[0]:loc[1]])
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n < 20 {
		t.Fatalf("only %d program sources found", n)
	}
}

// A seat (子機) keeps no customer data: the seat side of branch seats
// (internal/seat, internal/seat/client and the forwarder of the UI's calls,
// internal/seat/forward) links no SQLite, no store, no
// engine and no feature, only the keychain, the data folder's install ID
// and the atomic file write (and the keychain's field errors); so a
// seat-mode process built on it cannot open a customer database. Only the primary's side (internal/seat/primary)
// reaches the store. (internal/seat never imports app/: the rule above.)
func TestSeatSideLinksNoDatabase(t *testing.T) {
	// fielderr: the keychain's field errors (a leaf); textfold: width
	// folding of a typed code or address (a leaf: TestOneTextNormaliser).
	// atomicfile: the one atomic file write (a leaf).
	allowed := []string{module + "/internal/seat", module + "/internal/secrets", module + "/internal/datadir", module + "/internal/recovery", module + "/internal/fielderr", module + "/internal/textfold", module + "/internal/atomicfile"}
	for _, path := range []string{module + "/internal/seat", module + "/internal/seat/client", module + "/internal/seat/forward"} {
		p, ok := packages(t)[path]
		if !ok {
			t.Fatalf("%s not found", path)
		}
		for _, d := range append(p.Deps, p.Imports...) {
			if under(d, "github.com/ncruces/go-sqlite3") || under(d, module+"/internal/seat/primary") {
				t.Errorf("%s links %s", path, d)
			}
			if under(d, module) && !slices.ContainsFunc(allowed, func(a string) bool { return under(d, a) }) {
				t.Errorf("%s links %s; a seat may link only %s", path, d, strings.Join(allowed, ", "))
			}
		}
	}
}
