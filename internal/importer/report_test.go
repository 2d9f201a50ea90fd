package importer

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"tsunagu/internal/store/storetest"
)

// The rejected-rows report is for the file's owner: it names the row by its
// customer number and shows the value as written, so the row can be fixed.
// What leaves the process otherwise (JSON for the screen, %v in a log)
// stays masked.
func TestReportGivesTheOwnerWhatTheyNeed(t *testing.T) {
	db := storetest.New(t)
	path := filepath.Join(t.TempDir(), "c.csv")
	csv := "顧客番号,氏名,電話番号,生年月日\n" +
		"C001,正しい 行,03-1234-5678,1980-04-01\n" +
		"C002,電話 誤り,12-34,1980-04-01\n" +
		"C003,日付 誤り,,H31/5/1\n" +
		"C001,重複 行,,\n" +
		"C004,=HYPERLINK(\"x\"),,\n"
	if err := os.WriteFile(path, []byte(csv), 0o600); err != nil {
		t.Fatal(err)
	}
	res, err := Import(context.Background(), db, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Rejected != 3 {
		t.Fatalf("rejected %d: %+v", res.Rejected, res.Issues)
	}
	var buf bytes.Buffer
	if err := WriteReport(&buf, res.Issues, "ja"); err != nil {
		t.Fatal(err)
	}
	rep := buf.String()
	for _, want := range []string{
		"行,顧客番号,列,値,理由コード,理由",
		"3,C002,電話番号,12-34,phone,",
		"4,C003,生年月日,H31/5/1,date,",
		"5,C001,顧客番号,C001,duplicate,",
	} {
		if !strings.Contains(rep, want) {
			t.Errorf("report lacks %q:\n%s", want, rep)
		}
	}
	shown, _ := json.Marshal(res.Issues)
	logged := fmt.Sprintf("%v %+v", res.Issues, res.Issues[0])
	for _, secret := range []string{"12-34", "H31/5/1", "C001", "C002", "C003"} {
		if strings.Contains(string(shown), secret) {
			t.Errorf("JSON of the issues holds %q: %s", secret, shown)
		}
		if strings.Contains(logged, secret) {
			t.Errorf("formatted issues hold %q: %s", secret, logged)
		}
	}
}

func TestReportValueIsSafeInACell(t *testing.T) {
	for in, want := range map[string]string{
		"H31/5/1":     "H31/5/1",
		"=1+2":        "'=1+2",
		"a\x00b\nc":   "a?b?c",
		"\xff\xfeabc": "?abc",
		"山田\r\n太郎":    "山田??太郎",
	} {
		if got := reportValue(in); got != want {
			t.Errorf("reportValue(%q) = %q, want %q", in, got, want)
		}
	}
}
