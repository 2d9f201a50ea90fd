package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/text/encoding/japanese"
	"golang.org/x/text/transform"

	"tsunagu/internal/customer"
	"tsunagu/internal/importer"
	"tsunagu/internal/secrets/secretstest"
)

func TestCLIImportExport(t *testing.T) {
	kr := secretstest.Keyring(t)
	dir := filepath.Join(t.TempDir(), "data")
	secretstest.CleanupDataDir(t, kr, dir)
	if r := cli(t, kr, "", "init", "--data-dir", dir); r.code != 0 {
		t.Fatalf("init: %+v", r)
	}
	files := t.TempDir()
	src := "顧客番号,氏名,フリガナ,生年月日,携帯電話,メールアドレス\r\n" +
		"C001,山田 太郎,ﾔﾏﾀﾞ ﾀﾛｳ,R5.4.1,090-1111-2222,Taro@Example.com\r\n" +
		"C002,佐藤 ①子,ｻﾄｳ ｲﾁｺ,H31/4/30,,\r\n" +
		"C003,日付 不正,,H31/5/1,,\r\n"
	sjis, _, err := transform.String(japanese.ShiftJIS.NewEncoder(), src)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(files, "customers.csv")
	os.WriteFile(file, []byte(sjis), 0o600)
	report := filepath.Join(files, "report.csv")

	// A dry run writes nothing and still reports the rejected row.
	r := cli(t, kr, "", "import", file, "--data-dir", dir, "--dry-run", "--json")
	var res importer.Result
	if r.code != exitRejected || json.Unmarshal([]byte(r.stdout), &res) != nil || !res.DryRun || res.New != 2 || res.Rejected != 1 || res.Encoding != "sjis" {
		t.Fatalf("dry run: %+v", r)
	}
	if r := cli(t, kr, "", "customers", "list", "--data-dir", dir, "--json"); !strings.Contains(r.stdout, `"total": 0`) {
		t.Fatalf("after dry run: %+v", r)
	}

	r = cli(t, kr, "", "import", "--data-dir", dir, "--encoding", "sjis", "--report", report, file)
	if r.code != exitRejected || !strings.Contains(r.stdout, "new:        2") || !strings.Contains(r.stderr, "1 row(s) rejected") {
		t.Fatalf("import: %+v", r)
	}
	rep, _ := os.ReadFile(report)
	if !strings.Contains(string(rep), "4,生年月日,H**/*/1,date,") || strings.Contains(string(rep), "H31/5/1") {
		t.Errorf("report:\n%s", rep)
	}

	// Again: nothing new, exit 3 still because the bad row is still bad.
	r = cli(t, kr, "", "import", file, "--data-dir", dir, "--json")
	if r.code != exitRejected || json.Unmarshal([]byte(r.stdout), &res) != nil || res.Unchanged != 2 {
		t.Fatalf("second import: %+v", r)
	}

	r = cli(t, kr, "", "customers", "list", "--data-dir", dir, "--query", "ﾔﾏﾀﾞ", "--json")
	var page customer.Page
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &page) != nil || page.Total != 1 || page.Customers[0].Phone != "09011112222" || page.Customers[0].Email != "taro@example.com" {
		t.Fatalf("list: %+v", r)
	}

	out := filepath.Join(files, "export.csv")
	if r := cli(t, kr, "", "export", "customers", out, "--data-dir", dir, "--encoding", "sjis"); r.code != 0 || !strings.Contains(r.stdout, "exported 2 customers") {
		t.Fatalf("export: %+v", r)
	}
	data, _ := os.ReadFile(out)
	text, _, _ := transform.String(japanese.ShiftJIS.NewDecoder(), string(data))
	if !strings.Contains(text, "C002,佐藤 ①子,サトウ イチコ,2019-04-30") {
		t.Errorf("export:\n%s", text)
	}

	// Exit codes scripts rely on.
	for _, tc := range []struct {
		args []string
		code int
	}{
		{[]string{"import", "--data-dir", dir}, 2},                                      // no file
		{[]string{"import", file, "--data-dir", dir, "--auto", "--profile", "x"}, 2},    // exclusive flags
		{[]string{"import", file, "--data-dir", dir, "--profile", "none"}, 1},           // no such profile
		{[]string{"import", filepath.Join(files, "nope.csv"), "--data-dir", dir}, 1},    // no such file
		{[]string{"import", file, "--data-dir", dir, "--encoding", "latin1"}, 1},        // unknown encoding
		{[]string{"export", "customers", out, "--data-dir", dir, "--encoding", "x"}, 1}, // unknown encoding
	} {
		if r := cli(t, kr, "", tc.args...); r.code != tc.code {
			t.Errorf("%v: exit %d, want %d (%s)", tc.args, r.code, tc.code, r.stderr)
		}
	}
	clean := filepath.Join(files, "clean.csv")
	os.WriteFile(clean, []byte("customer_no,name\nC009,Ok\n"), 0o600)
	if r := cli(t, kr, "", "import", clean, "--data-dir", dir, "--auto"); r.code != 0 {
		t.Errorf("clean import: %+v", r)
	}
}
