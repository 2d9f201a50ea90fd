package facade

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"tsunagu/internal/secrets/secretstest"
	"tsunagu/internal/survey"
)

// TestSurveyAnswerImportReport: answers imported from CSV through the
// facade report their rejected rows like a customer import, and
// SaveImportReport writes those rows (masked) to the file the person picks.
func TestSurveyAnswerImportReport(t *testing.T) {
	files := t.TempDir()
	csvPath := filepath.Join(files, "回答.csv")
	kr := secretstest.Keyring(t)
	dir := filepath.Join(t.TempDir(), "data")
	secretstest.CleanupDataDir(t, kr, dir)
	h := New(Options{DataDir: dir, Keyring: kr, AuthParams: testParams, FilePicker: pickerStub{open: csvPath, saveDir: files}})
	if err := h.Start(context.Background(), &events{}); err != nil {
		t.Fatal(err)
	}
	defer h.Stop()
	app := h.App()
	firstAdmin(t, app)

	sv, err := (&SurveyService{app}).SaveSurvey(survey.Survey{Name: "来店アンケート", AnswerRule: "latest", Questions: []survey.Question{
		{ID: "q1", Type: "text", Text: "ご意見をお聞かせください"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	// The sandbox seeds customers; 9999999 is no one's number.
	os.WriteFile(csvPath, []byte("顧客番号,q1\n9999999,とても良い\n"), 0o600)
	res, err := (&SurveyService{app}).ImportSurveyAnswers(sv.ID, csvPath, "auto")
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Issues) != 1 || res.Issues[0].Line != 2 || res.Issues[0].Reason != survey.ReasonCustomer {
		t.Fatalf("issues: %+v", res.Issues)
	}
	saved, err := customerSvc(app).SaveImportReport("ja")
	if err != nil {
		t.Fatal(err)
	}
	rep, _ := os.ReadFile(saved)
	if !strings.Contains(string(rep), "2,,顧客番号,") || strings.Contains(string(rep), "9999999") {
		t.Errorf("report (value must be masked):\n%s", rep)
	}
}
