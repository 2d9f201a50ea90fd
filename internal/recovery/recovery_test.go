package recovery

import (
	"bytes"
	"crypto/rand"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var cheap = KDF{Time: 1, Memory: 1024, Threads: 1}

func TestWrapUnwrap(t *testing.T) {
	key := make([]byte, 32)
	rand.Read(key)
	code, err := NewCode()
	if err != nil {
		t.Fatal(err)
	}
	if len(code) != 39 || strings.Count(code, "-") != 7 {
		t.Fatalf("code format %q", code)
	}
	f, err := Wrap(code, key, cheap, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), FileName)
	if err := Save(p, f); err != nil {
		t.Fatal(err)
	}
	g, err := Load(p)
	if err != nil {
		t.Fatal(err)
	}
	if g.KeyID != KeyID(key) || strings.Contains(g.Wrapped, string(key)) {
		t.Fatalf("file %+v", g)
	}
	other, _ := NewCode()
	typed := strings.ToLower(strings.ReplaceAll(code, "-", " "))
	for _, tt := range []struct {
		code string
		ok   bool
	}{{code, true}, {typed, true}, {other, false}, {"", false}, {code[:20], false}} {
		got, err := g.Unwrap(tt.code)
		if tt.ok && (err != nil || !bytes.Equal(got, key)) {
			t.Errorf("Unwrap(%q): %v", tt.code, err)
		}
		if !tt.ok && !errors.Is(err, ErrBadCode) {
			t.Errorf("Unwrap(%q) = %v, want ErrBadCode", tt.code, err)
		}
	}
	// A tampered file is refused like a wrong code.
	g.Wrapped = g.Wrapped[:len(g.Wrapped)-2] + "00"
	if _, err := g.Unwrap(code); !errors.Is(err, ErrBadCode) {
		t.Errorf("tampered: %v", err)
	}
}

// TestProductionKDF unwraps once with the shipped parameters.
func TestProductionKDF(t *testing.T) {
	key := make([]byte, 32)
	rand.Read(key)
	code, _ := NewCode()
	f, err := Wrap(code, key, DefaultKDF, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	got, err := f.Unwrap(code)
	if err != nil || !bytes.Equal(got, key) {
		t.Fatal(err)
	}
}

func TestLoadMissing(t *testing.T) {
	if _, err := Load(filepath.Join(t.TempDir(), FileName)); !errors.Is(err, ErrNoFile) {
		t.Fatal(err)
	}
}
