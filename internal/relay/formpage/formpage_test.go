package formpage_test

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"tsunagu/internal/relay/formpage"
	"tsunagu/internal/relay/wire"
)

// frontend is the frontend folder (node_modules installed by make deps).
func frontend(t *testing.T) string {
	t.Helper()
	dir, _ := filepath.Abs(filepath.Join("..", "..", "..", "frontend"))
	if _, err := os.Stat(filepath.Join(dir, "node_modules", ".bin", "rolldown")); err != nil {
		t.Fatalf("frontend/node_modules missing (run make frontend-deps): %v", err)
	}
	return dir
}

func run(t *testing.T, dir, name string, args ...string) []byte {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %v: %v\n%s", name, args, err, stderr.String())
	}
	return out
}

// The page's sealing code (frontend/forms-page/src/seal.ts, @noble
// primitives), run by node, makes boxes that Go's nacl/box.OpenAnonymous
// opens (through wire.OpenAny, as the desktop does); a box altered by one
// byte does not open.
func TestPageSealOpensInGo(t *testing.T) {
	fe := frontend(t)
	tmp := t.TempDir()
	mod := filepath.Join(tmp, "seal.mjs")
	run(t, fe, filepath.Join(fe, "node_modules", ".bin", "rolldown"), filepath.Join(fe, "forms-page", "src", "seal.ts"),
		"--format", "esm", "--platform", "node", "--file", mod)
	pub, priv, err := wire.GenerateBoxKey()
	if err != nil {
		t.Fatal(err)
	}
	const answer = "住所は東京都千代田区丸の内１－１"
	script := `import { sealAnonymous } from '` + "file://" + mod + `'
const [pub, text] = process.argv.slice(1)
const json = new TextEncoder().encode(JSON.stringify({formId: 'A'.repeat(32), submitId: 'b'.repeat(32), idToken: 'tok', answers: {q1: text, q2: ['x', 'y']}}))
const msg = new Uint8Array(json.length + 1); msg[0] = 4; msg.set(json, 1)
const key = Uint8Array.from(Buffer.from(pub, 'hex'))
const a = sealAnonymous(msg, key), b = sealAnonymous(msg, key)
console.log(Buffer.from(a).toString('base64') + ' ' + Buffer.from(b).toString('base64'))`
	out := run(t, tmp, "node", "--input-type=module", "-e", script, hex.EncodeToString(pub[:]), answer)
	parts := strings.Fields(string(out))
	if len(parts) != 2 || parts[0] == parts[1] {
		t.Fatalf("node gave %q (two boxes of one message must differ: fresh ephemeral keys)", out)
	}
	for _, p := range parts {
		sealed, err := base64.StdEncoding.DecodeString(p)
		if err != nil {
			t.Fatal(err)
		}
		o, err := wire.OpenAny(pub, priv, sealed)
		if err != nil {
			t.Fatalf("Go cannot open the page's box: %v", err)
		}
		if o.Form == nil || o.Form.Answers["q1"] != answer || o.Form.SubmitID != strings.Repeat("b", 32) {
			t.Fatalf("opened %+v", o.Form)
		}
		sealed[len(sealed)-1] ^= 1
		if _, err := wire.OpenAny(pub, priv, sealed); !errors.Is(err, wire.ErrOpen) {
			t.Fatalf("tampered box: %v", err)
		}
	}
	// Another key cannot open it.
	pub2, priv2, _ := wire.GenerateBoxKey()
	_ = pub2
	sealed, _ := base64.StdEncoding.DecodeString(parts[0])
	if _, err := wire.OpenAny(pub2, priv2, sealed); !errors.Is(err, wire.ErrOpen) {
		t.Fatalf("other key: %v", err)
	}
}

func gz(b []byte) int {
	var buf bytes.Buffer
	w, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	w.Write(b)
	w.Close()
	return buf.Len()
}

// The page stays under the budget (150 KB compressed, before
// fonts; it uses the phone's own), is inlined safely, and the embedded
// build is the one the sources make (run `make forms-page` after a
// change).
func TestPageBudgetAndBuild(t *testing.T) {
	js, css := formpage.Script(), formpage.Style()
	if n := gz(js) + gz(css); n > 150_000 {
		t.Fatalf("page is %d bytes gzipped, over the 150 KB budget", n)
	} else {
		t.Logf("page: script %d + style %d bytes gzipped", gz(js), gz(css))
	}
	if bytes.Contains(bytes.ToLower(js), []byte("</script")) || bytes.Contains(bytes.ToLower(css), []byte("</style")) {
		t.Fatal("the inlined script or style would close its element")
	}
	fe := frontend(t)
	tmp := t.TempDir()
	run(t, fe, filepath.Join(fe, "node_modules", ".bin", "rolldown"), filepath.Join(fe, "forms-page", "src", "main.ts"),
		"--format", "iife", "--minify", "--platform", "browser", "--file", filepath.Join(tmp, "form.js"))
	built, err := os.ReadFile(filepath.Join(tmp, "form.js"))
	if err != nil {
		t.Fatal(err)
	}
	src, _ := os.ReadFile(filepath.Join(fe, "forms-page", "src", "form.css"))
	if !bytes.Equal(built, js) || !bytes.Equal(src, css) {
		t.Fatal("internal/relay/formpage is stale: run make forms-page")
	}
}
