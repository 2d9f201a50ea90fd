package main

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/text/encoding/japanese"
	"golang.org/x/text/transform"

	"tsunagu/internal/campaign"
	"tsunagu/internal/engine"
	"tsunagu/internal/secrets/secretstest"
	"tsunagu/internal/segment"
)

// Printed output and CSV reports are compared with golden files under
// testdata/: a change in what a person or a script reads fails here.
// TSUNAGU_UPDATE_GOLDEN=1 rewrites them (review the diff).
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if os.Getenv("TSUNAGU_UPDATE_GOLDEN") == "1" {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (TSUNAGU_UPDATE_GOLDEN=1 writes it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from %s (TSUNAGU_UPDATE_GOLDEN=1 rewrites it):\n--- got\n%s\n--- want\n%s", name, path, got, want)
	}
}

// TestGoldenHelp: --help of the program, a group and a command with flags.
func TestGoldenHelp(t *testing.T) {
	t.Setenv("TSUNAGU_DATA_DIR", "/srv/tsunagu") // the default shown for --data-dir
	kr := secretstest.Keyring(t)
	for name, args := range map[string][]string{
		"help-root":   {"--help"},
		"help-backup": {"backup", "--help"},
		"help-import": {"import", "--help"},
	} {
		r := cli(t, kr, "", args...)
		if r.code != 0 {
			t.Fatalf("%v: %+v", args, r)
		}
		golden(t, name, r.stdout)
	}
}

// TestGoldenCustomerReports: what an import prints, its report of rejected
// rows (masked), the customer list and the export, for a Shift_JIS file as
// a core system writes it.
func TestGoldenCustomerReports(t *testing.T) {
	kr := secretstest.Keyring(t)
	dir := filepath.Join(t.TempDir(), "data")
	if r := cli(t, kr, "", "init", "--data-dir", dir); r.code != 0 {
		t.Fatalf("init: %+v", r)
	}
	files := t.TempDir()
	src := "顧客番号,氏名,フリガナ,生年月日,携帯電話,メールアドレス,店番\r\n" +
		"C001,山田 太郎,ﾔﾏﾀﾞ ﾀﾛｳ,R5.4.1,090-1111-2222,Taro@Example.com,001\r\n" +
		"C002,佐藤 ①子,ｻﾄｳ ｲﾁｺ,H31/4/30,,,002\r\n" +
		"C003,日付 不正,,H31/5/1,,,001\r\n" +
		"C004,=cmd|' /C calc'!A0,,1990-02-30,080-0000-000,not-an-email,001\r\n"
	sjis, _, err := transform.String(japanese.ShiftJIS.NewEncoder(), src)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(files, "customers.csv")
	os.WriteFile(file, []byte(sjis), 0o600)
	report := filepath.Join(files, "report.csv")

	r := cli(t, kr, "", "import", file, "--report", report, "--data-dir", dir)
	if r.code != exitRejected {
		t.Fatalf("import: %+v", r)
	}
	golden(t, "import-stdout", r.stdout)
	rep, err := os.ReadFile(report)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "import-report.csv", string(rep))

	r = cli(t, kr, "", "customers", "list", "--data-dir", dir)
	if r.code != 0 {
		t.Fatalf("list: %+v", r)
	}
	golden(t, "customers-list", r.stdout)

	out := filepath.Join(files, "export.csv")
	if r := cli(t, kr, "", "export", "customers", out, "--data-dir", dir); r.code != 0 {
		t.Fatalf("export: %+v", r)
	}
	data, _ := os.ReadFile(out)
	golden(t, "export-customers.csv", strings.ReplaceAll(string(data), out, "OUT"))
}

// TestGoldenCampaignReport: `campaign report` of an approved campaign.
func TestGoldenCampaignReport(t *testing.T) {
	kr := secretstest.Keyring(t)
	dir := filepath.Join(t.TempDir(), "data")
	if r := cli(t, kr, "", "init", "--data-dir", dir); r.code != 0 {
		t.Fatalf("init: %+v", r)
	}
	ctx := context.Background()
	eng, err := engine.Open(ctx, dir, kr)
	if err != nil {
		t.Fatal(err)
	}
	err = eng.DB().Write(ctx, func(tx *sql.Tx) error {
		for _, q := range []string{
			`INSERT INTO customers (id, customer_no, name, email, created_at, updated_at) VALUES (1, 'C1', '山田', 'y@example.jp', 0, 0), (2, 'C2', '佐藤', '', 0, 0)`,
			`INSERT INTO consents VALUES (1, 'email', 1, 't', 0)`,
		} {
			if _, err := tx.ExecContext(ctx, q); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	c, err := eng.Campaigns().Create(ctx, "staff:a", campaign.Draft{Name: "満期のご案内", Rules: segment.Node{Op: "and"},
		Channels: []string{campaign.ChannelEmail}, Content: campaign.Content{Email: campaign.Email{Subject: "満期", Text: "{氏名} 様"}}})
	if err == nil {
		_, err = eng.Campaigns().Approve(ctx, "staff:b", c.ID, c.Version)
	}
	eng.Close()
	if err != nil {
		t.Fatal(err)
	}
	r := cli(t, kr, "", "campaign", "report", "1", "--data-dir", dir)
	if r.code != 0 {
		t.Fatalf("report: %+v", r)
	}
	golden(t, "campaign-report", r.stdout)
}
