package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/pflag"
)

// The README's table of tsunagu-cli commands is generated from the
// commands' definitions (commands), so it cannot drift: this test fails when they differ, and
// rewrites the README's table with TSUNAGU_UPDATE_README=1.
func TestREADMECommandTable(t *testing.T) {
	const begin, end = "<!-- cli-commands:begin (generated: TSUNAGU_UPDATE_README=1 go test -run TestREADMECommandTable ./app/cli) -->", "<!-- cli-commands:end -->"
	want := commandTable()
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

// commandTable is the README's table: each command with its arguments, its
// help and its own flags, as --help shows them.
func commandTable() string {
	cmds := commands()
	root := newRoot(context.Background(), &cmdCtx{}, cmds)
	var b strings.Builder
	b.WriteString("| command | what it does |\n| --- | --- |\n")
	for _, def := range cmds {
		what := def.short
		if leaf, _, err := root.Find(strings.Fields(def.name)); err == nil {
			var flags []string
			leaf.Flags().SortFlags = false // in the order they are defined
			leaf.LocalFlags().VisitAll(func(f *pflag.Flag) { flags = append(flags, "`--"+f.Name+"`") })
			if len(flags) > 0 {
				what += "; flags: " + strings.Join(flags, " ")
			}
		}
		use := strings.TrimSpace(def.name + " " + def.args)
		fmt.Fprintf(&b, "| `tsunagu-cli %s` | %s |\n", strings.ReplaceAll(use, "|", "\\|"), strings.ReplaceAll(what, "|", "\\|"))
	}
	return b.String()
}
