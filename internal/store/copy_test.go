package store

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestVacuumInto(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	key, key2 := make([]byte, KeySize), make([]byte, KeySize)
	rand.Read(key)
	rand.Read(key2)
	db, err := Create(ctx, filepath.Join(dir, "a.db"), key)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	const secret = "お客さまの秘密のメモ-7f3a"
	if _, err := db.Writer().Exec(`CREATE TABLE notes(body TEXT)`); err != nil {
		t.Fatal(err)
	}
	db.Writer().Exec(`INSERT INTO notes VALUES (?)`, secret)

	for _, tt := range []struct {
		name string
		key  []byte
	}{{"same key", key}, {"new key", key2}} {
		t.Run(tt.name, func(t *testing.T) {
			dst := filepath.Join(dir, strings.ReplaceAll(tt.name, " ", "-")+".db")
			if err := db.VacuumInto(ctx, dst, tt.key); err != nil {
				t.Fatal(err)
			}
			raw, _ := os.ReadFile(dst)
			if bytes.Contains(raw, []byte(secret)) || bytes.HasPrefix(raw, sqliteHeader) {
				t.Fatal("copy is not encrypted")
			}
			other := key2
			if bytes.Equal(tt.key, key2) {
				other = key
			}
			if _, err := Open(ctx, dst, other); !errors.Is(err, ErrWrongKey) {
				t.Fatalf("open with the other key: %v", err)
			}
			c, err := Open(ctx, dst, tt.key)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			var got string
			if err := c.Reader().QueryRow(`SELECT body FROM notes`).Scan(&got); err != nil || got != secret {
				t.Fatalf("copy content %q %v", got, err)
			}
			if err := db.VacuumInto(ctx, dst, tt.key); !errors.Is(err, ErrExists) {
				t.Fatalf("second copy over the first: %v", err)
			}
		})
	}
}
