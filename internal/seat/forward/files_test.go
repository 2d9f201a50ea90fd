package forward

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"tsunagu/internal/seat"
)

// filePrimary plays a primary's file method: the first sending asks for a
// dialog, the second makes the file (save) or takes it (open).
type filePrimary struct {
	ask  FileAsk
	sent []Request
	body []byte // the saved file's bytes
}

func (p *filePrimary) Call(_ context.Context, _ string, in, out any) error {
	req := in.(Request)
	p.sent = append(p.sent, req)
	var ans Answer
	switch {
	case req.File == nil:
		ans = Answer{Result: json.RawMessage(`{"path":""}`), File: &p.ask}
	case p.ask.Kind == FileSave:
		r, _ := json.Marshal(map[string]string{"path": req.File.Path})
		ans = Answer{Result: r, Content: p.body}
	default:
		r, _ := json.Marshal(string(req.File.Content))
		ans = Answer{Result: r}
	}
	b, err := ans.Encode()
	if err != nil {
		return err
	}
	return json.Unmarshal(b, out)
}

type fixedPicker struct {
	open, save string
	shown      int
}

func (p *fixedPicker) OpenFile(context.Context, string) (string, error) {
	p.shown++
	return p.open, nil
}
func (p *fixedPicker) SaveFile(_ context.Context, _, name string) (string, error) {
	p.shown++
	if p.save == "" {
		return "", nil
	}
	return filepath.Join(p.save, name), nil
}

func TestSeatSavesItsOwnFile(t *testing.T) {
	dir := t.TempDir()
	p := &filePrimary{ask: FileAsk{Kind: FileSave, Title: "CSV", Name: "customers-20261207.csv"}, body: []byte("顧客番号,氏名\nS1,子機 花子\n")}
	pick := &fixedPicker{save: dir}
	f := New(p).WithPicker(pick)
	res, err := f.Forward(context.Background(), "ExportCustomers", []json.RawMessage{json.RawMessage(`"utf-8-bom"`)})
	want := filepath.Join(dir, "customers-20261207.csv")
	if err != nil || !strings.Contains(string(res), "customers-20261207.csv") {
		t.Fatalf("the export: %s %v", res, err)
	}
	if got, err := os.ReadFile(want); err != nil || string(got) != string(p.body) {
		t.Fatalf("the file on the seat: %q %v", got, err)
	}
	if len(p.sent) != 2 || p.sent[1].File == nil || p.sent[1].File.Path != want || string(p.sent[1].Args) != `["utf-8-bom"]` {
		t.Fatalf("sent %+v", p.sent)
	}
	// Only the file itself is left in the folder (no temporary file).
	if names, _ := os.ReadDir(dir); len(names) != 1 {
		t.Fatalf("the seat's folder: %v", names)
	}

	// Cancelled: the first answer's result, nothing sent a second time.
	p.sent, pick.save = nil, ""
	res, err = f.Forward(context.Background(), "ExportCustomers", nil)
	if err != nil || string(res) != `{"path":""}` || len(p.sent) != 1 {
		t.Fatalf("cancelled: %s %v (%d sent)", res, err, len(p.sent))
	}

	// No dialogs on this seat: a clear code, nothing run.
	p.sent = nil
	if _, err := New(p).Forward(context.Background(), "ExportCustomers", nil); err == nil || err.Error() != CodeNoPicker || len(p.sent) != 1 {
		t.Fatalf("without a picker: %v", err)
	}

	// A folder that cannot be written: the seat says so.
	pick.save = filepath.Join(dir, "missing")
	if _, err := f.Forward(context.Background(), "ExportCustomers", nil); err == nil || err.Error() != CodeFileWrite {
		t.Fatalf("an unwritable folder: %v", err)
	}
}

func TestSeatOpensItsOwnFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "顧客.csv")
	if err := os.WriteFile(path, []byte("顧客番号\nS1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	p := &filePrimary{ask: FileAsk{Kind: FileOpen, Title: "CSV"}}
	f := New(p).WithPicker(&fixedPicker{open: path})
	res, err := f.Forward(context.Background(), "PickImportFile", nil)
	if err != nil || string(res) != `"顧客番号\nS1\n"` || p.sent[1].File.Path != path {
		t.Fatalf("the open: %s %v %+v", res, err, p.sent)
	}
	// Over the limit: refused before anything travels.
	big := filepath.Join(dir, "big.csv")
	if err := os.WriteFile(big, make([]byte, MaxFile+1), 0o600); err != nil {
		t.Fatal(err)
	}
	p.sent = nil
	f = New(p).WithPicker(&fixedPicker{open: big})
	if _, err := f.Forward(context.Background(), "PickImportFile", nil); err == nil || err.Error() != CodeFileTooLarge || len(p.sent) != 1 {
		t.Fatalf("too large: %v (%d sent)", err, len(p.sent))
	}
}

func TestBufferCap(t *testing.T) {
	var b Buffer
	if _, err := b.Write(make([]byte, MaxFile)); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Write([]byte{1}); !errors.Is(err, ErrFileTooLarge) {
		t.Fatalf("over the cap: %v", err)
	}
	// The largest file still fits one frame, base64 and all.
	ans, err := Answer{Result: json.RawMessage(`{"path":"C:\\\\x.csv","rows":1}`), Content: b.Bytes()}.Encode()
	if err != nil || len(ans) > seat.MaxFrame-1024 {
		t.Fatalf("the largest answer: %d bytes, %v", len(ans), err)
	}
	var back Answer
	if err := json.Unmarshal(ans, &back); err != nil || len(back.Content) != MaxFile {
		t.Fatalf("decode: %v", err)
	}
}
