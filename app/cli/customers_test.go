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
	// The report is for the file's owner (the row's number and the value as
	// written); what the command prints stays masked.
	if !strings.Contains(string(rep), "4,C003,生年月日,H31/5/1,date,") || strings.Contains(r.stdout+r.stderr, "H31/5/1") {
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

	// Contracts of the imported customers, Shift_JIS as the core system
	// writes them: one of an unknown customer is rejected (exit 3).
	csrc := "顧客番号,商品種別,商品コード,口座番号,契約日,満期日,状態,金額帯\r\n" +
		"C001,ﾃｲｷﾖｷﾝ,201,１２３,令和5年4月1日,R10.4.1,契約中,300-500万\r\n" +
		"C999,普通預金,101,456,,,,\r\n"
	csjis, _, _ := transform.String(japanese.ShiftJIS.NewEncoder(), csrc)
	cfile := filepath.Join(files, "contracts.csv")
	os.WriteFile(cfile, []byte(csjis), 0o600)
	r = cli(t, kr, "", "import", "--kind", "contracts", cfile, "--data-dir", dir, "--json")
	if r.code != exitRejected || json.Unmarshal([]byte(r.stdout), &res) != nil || res.Kind != "contracts" || res.New != 1 || res.Rejected != 1 {
		t.Fatalf("contracts import: %+v", r)
	}
	if r := cli(t, kr, "", "import", "--kind", "loans", cfile, "--data-dir", dir); r.code != 1 {
		t.Errorf("unknown kind: %+v", r)
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

// TestCLICustomerCommandsSigninAndErase: with `staff require-signin on`, the
// customer and inbox commands need TSUNAGU_STAFF and the password, refuse a
// masked role, and are audited under the staff member; `erase customer`
// deletes the customer, audited.
func TestCLICustomerCommandsSigninAndErase(t *testing.T) {
	kr := secretstest.Keyring(t)
	dir := filepath.Join(t.TempDir(), "data")
	secretstest.CleanupDataDir(t, kr, dir)
	if r := cli(t, kr, "", "init", "--data-dir", dir); r.code != 0 {
		t.Fatalf("init: %+v", r)
	}
	const adminPW, agencyPW = "admin password 1", "agency password 1"
	if r := cli(t, kr, "支店長\n"+adminPW+"\n", "staff", "add", "admin", "admin", "--data-dir", dir); r.code != 0 {
		t.Fatalf("staff add admin: %+v", r)
	}
	if r := cli(t, kr, "代理店\n"+agencyPW+"\n", "staff", "add", "agency", "agency", "--data-dir", dir); r.code != 0 {
		t.Fatalf("staff add agency: %+v", r)
	}
	if r := cli(t, kr, "", "staff", "require-signin", "on", "--data-dir", dir); r.code != 0 {
		t.Fatalf("require-signin: %+v", r)
	}
	files := t.TempDir()
	src := filepath.Join(files, "c.csv")
	os.WriteFile(src, []byte("顧客番号,氏名,携帯電話,メールアドレス\nE001,消去 花子,090-8765-4321,hanako@example.jp\nK001,残存 太郎,090-1111-2222,taro@example.jp\n"), 0o600)
	out := filepath.Join(files, "out.csv")
	commands := [][]string{
		{"import", src},
		{"customers", "list"},
		{"export", "customers", out},
		{"inbox", "list"},
	}
	for _, args := range commands {
		args = append(args, "--data-dir", dir)
		t.Setenv(StaffEnv, "")
		if r := cli(t, kr, "", args...); r.code == 0 || !strings.Contains(r.stderr, StaffEnv) {
			t.Errorf("%v without sign-in: %+v", args, r)
		}
		t.Setenv(StaffEnv, "admin")
		if r := cli(t, kr, "wrong password\n", args...); r.code == 0 {
			t.Errorf("%v with a wrong password: %+v", args, r)
		}
		if r := cli(t, kr, adminPW+"\n", args...); r.code != 0 {
			t.Errorf("%v signed in: %+v", args, r)
		}
	}
	// The CLI cannot mask: a masked role may not list customers or chats.
	t.Setenv(StaffEnv, "agency")
	for _, args := range [][]string{{"customers", "list"}, {"inbox", "list"}} {
		if r := cli(t, kr, agencyPW+"\n", append(args, "--data-dir", dir)...); r.code == 0 || strings.Contains(r.stdout, "消去") {
			t.Errorf("%v as agency: %+v", args, r)
		}
	}
	if r := cli(t, kr, agencyPW+"\n", "erase", "customer", "E001", "--data-dir", dir); r.code == 0 {
		t.Errorf("agency erased a customer: %+v", r)
	}

	t.Setenv(StaffEnv, "admin")
	if r := cli(t, kr, adminPW+"\n", "erase", "customer", "E001", "--data-dir", dir); r.code != 0 || !strings.Contains(r.stdout, "erased customer E001") {
		t.Fatalf("erase customer: %+v", r)
	}
	if r := cli(t, kr, adminPW+"\n", "erase", "customer", "E001", "--data-dir", dir); r.code == 0 {
		t.Errorf("second erase: %+v", r)
	}
	r := cli(t, kr, adminPW+"\n", "customers", "list", "--data-dir", dir, "--json")
	var page customer.Page
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &page) != nil || page.Total != 1 || page.Customers[0].CustomerNo != "K001" {
		t.Fatalf("after erase: %+v", r)
	}

	// Audited under the staff member, with no customer data.
	t.Setenv(StaffEnv, "")
	if r := cli(t, kr, "", "staff", "require-signin", "off", "--data-dir", dir); r.code == 0 {
		t.Fatalf("require-signin off without sign-in: %+v", r)
	}
	t.Setenv(StaffEnv, "admin")
	if r := cli(t, kr, adminPW+"\n", "staff", "require-signin", "off", "--data-dir", dir); r.code != 0 {
		t.Fatalf("require-signin off: %+v", r)
	}
	t.Setenv(StaffEnv, "")
	r = cli(t, kr, "", "audit", "export", "--data-dir", dir)
	if r.code != 0 {
		t.Fatalf("audit export: %+v", r)
	}
	for _, want := range []string{"staff:admin,import.run", "staff:admin,customer.export", "staff:admin,data.erase"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("audit trail lacks %q:\n%s", want, r.stdout)
		}
	}
	for _, pii := range []string{"花子", "太郎", "09087654321", "hanako@"} {
		if strings.Contains(r.stdout, pii) {
			t.Errorf("audit trail holds %q", pii)
		}
	}
	if r := cli(t, kr, "", "audit", "verify", "--data-dir", dir); r.code != 0 {
		t.Errorf("audit verify: %+v", r)
	}
}
