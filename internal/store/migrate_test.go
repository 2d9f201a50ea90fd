package store

import (
	"strings"
	"testing"
	"testing/fstest"
)

func TestLoadMigrations(t *testing.T) {
	file := func(s string) *fstest.MapFile { return &fstest.MapFile{Data: []byte(s)} }
	for _, tc := range []struct {
		name    string
		files   fstest.MapFS
		want    []string // names in order; nil means an error is expected
		wantErr string
	}{
		{
			name: "in order",
			files: fstest.MapFS{
				"migrations/0002_search.sql": file("CREATE TABLE b(x);"),
				"migrations/0001_inbox.sql":  file("CREATE TABLE a(x);"),
				"migrations/README.md":       file("not a migration"),
			},
			want: []string{"0001_inbox.sql", "0002_search.sql"},
		},
		{
			name:    "gap",
			files:   fstest.MapFS{"migrations/0001_a.sql": file("x"), "migrations/0003_c.sql": file("x")},
			wantErr: "expected number 0002",
		},
		{
			name:    "duplicate number",
			files:   fstest.MapFS{"migrations/0001_a.sql": file("x"), "migrations/0001_b.sql": file("x")},
			wantErr: "expected number 0002",
		},
		{
			name:    "not starting at 1",
			files:   fstest.MapFS{"migrations/0002_b.sql": file("x")},
			wantErr: "expected number 0001",
		},
		{
			name:    "bad name",
			files:   fstest.MapFS{"migrations/1_inbox.sql": file("x")},
			wantErr: "not NNNN_name.sql",
		},
		{
			name:    "upper case name",
			files:   fstest.MapFS{"migrations/0001_Inbox.sql": file("x")},
			wantErr: "not NNNN_name.sql",
		},
		{
			name:    "empty file",
			files:   fstest.MapFS{"migrations/0001_a.sql": file(" \n")},
			wantErr: "empty",
		},
		{
			name:    "none",
			files:   fstest.MapFS{"migrations/README.md": file("x")},
			wantErr: "no migrations",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			migs, err := loadMigrations(tc.files)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for i, m := range migs {
				if m.version != i+1 {
					t.Errorf("%s has version %d, want %d", m.name, m.version, i+1)
				}
				names = append(names, m.name)
			}
			if strings.Join(names, ",") != strings.Join(tc.want, ",") {
				t.Fatalf("migrations %v, want %v", names, tc.want)
			}
		})
	}
}
