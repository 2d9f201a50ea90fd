package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The README's table of tsunagu-cli commands is generated from the command
// table, so it cannot drift: this test fails when they differ, and
// rewrites the README's table with TSUNAGU_UPDATE_README=1.
func TestREADMECommandTable(t *testing.T) {
	const begin, end = "<!-- cli-commands:begin (generated: TSUNAGU_UPDATE_README=1 go test -run TestREADMECommandTable ./app/cli) -->", "<!-- cli-commands:end -->"
	var b strings.Builder
	b.WriteString("| command | what it does |\n| --- | --- |\n")
	for _, c := range commands {
		args := strings.Repeat(" ARG", positionalArgs(c.name))
		fmt.Fprintf(&b, "| `tsunagu-cli %s%s` | %s |\n", c.name, args, strings.ReplaceAll(c.summary, "|", "\\|"))
	}
	want := b.String()
	path := filepath.Join("..", "..", "README.md")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	readme := string(data)
	i, j := strings.Index(readme, begin), strings.Index(readme, end)
	if i < 0 || j < i {
		t.Fatalf("README.md has no generated command table (%q … %q)", begin, end)
	}
	got := readme[i+len(begin)+1 : j]
	if got == want {
		return
	}
	if os.Getenv("TSUNAGU_UPDATE_README") == "1" {
		if err := os.WriteFile(path, []byte(readme[:i+len(begin)+1]+want+readme[j:]), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Fatalf("README.md's command table is out of date; run TSUNAGU_UPDATE_README=1 go test -run TestREADMECommandTable ./app/cli")
}
