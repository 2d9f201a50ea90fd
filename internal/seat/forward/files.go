package forward

// A seat's own files (issue 18): a bound method that saves or opens a file
// the person picks (an export, an import, saving a photo) shows the SEAT's
// dialog and reads or writes the SEAT's disk; the primary only makes or
// takes the bytes, in memory. One mechanism for every such method:
//
//  1. The call is forwarded as any other. The primary runs the method up to
//     its dialog (roles checked, a masked role refused as in the window),
//     answers with what it would ask (FileAsk: save as a suggested name, or
//     open) and the method's result for a cancelled dialog: nothing has
//     been exported or audited yet.
//  2. The seat shows its own dialog. Cancelled: that result, nothing more.
//  3. The call is sent again with the chosen path (FileStep): for a save the
//     primary runs the export into memory (audited as in the window, naming
//     staff and seat) and answers with the bytes, which the seat writes to
//     the path; for an open the seat sends the file's bytes, which the
//     primary keeps in this seat's session memory for the preview and the
//     run.
//
// Both directions are capped (MaxFile): a file travels in one frame.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"tsunagu/internal/atomicfile"
)

// MaxFile is the largest file a seat saves or opens through its primary:
// the bytes travel base64-encoded in one frame (seat.MaxFrame, 8 MiB).
const MaxFile = 5 << 20

// Kinds of FileAsk.
const (
	FileSave = "save"
	FileOpen = "open"
)

// FileAsk is the dialog a bound method asks the seat to show.
type FileAsk struct {
	Kind  string `json:"kind"`           // FileSave or FileOpen
	Title string `json:"title"`          // the dialog's filter title ("CSV")
	Name  string `json:"name,omitempty"` // the suggested file name of a save
}

// FileStep is the second sending of a call: the path the person chose on
// the seat (the result names it, and it names the file in the audit
// trail), and for an open the file's content.
type FileStep struct {
	Path    string `json:"path"`
	Content []byte `json:"content,omitempty"`
}

// Picker is the seat's own file dialogs (the window's native ones, the dev
// bridge's preset paths); "" when the person cancels.
type Picker interface {
	OpenFile(ctx context.Context, title string) (string, error)
	SaveFile(ctx context.Context, title, defaultName string) (string, error)
}

// Message codes of a seat's own files (internal/msgcode registers them).
const (
	// CodeFileTooLarge: over MaxFile.
	CodeFileTooLarge = "errors.seatFileTooLarge"
	// CodeFileWrite: the file could not be written on this seat.
	CodeFileWrite = "errors.seatFileWrite"
	// CodeFileGone: the primary no longer holds the opened file (signed
	// out, locked, or too long ago): pick it again.
	CodeFileGone = "errors.seatFileGone"
	// CodeFileRead and CodeNoPicker are msgcode's own.
	CodeFileRead = "errors.importFile"
	CodeNoPicker = "errors.noFilePicker"
)

// ErrFileTooLarge: a file over MaxFile (the primary's export, the seat's
// chosen file).
var ErrFileTooLarge = errors.New("the file is larger than a seat can save or open through its primary")

// ErrFileGone: the opened file is no longer kept for this seat.
var ErrFileGone = errors.New("the opened file is no longer kept on the primary")

// Buffer collects an export's bytes on the primary, up to MaxFile; over
// it, Write fails with ErrFileTooLarge.
type Buffer struct {
	b []byte
}

func (b *Buffer) Write(p []byte) (int, error) {
	if len(b.b)+len(p) > MaxFile {
		return 0, ErrFileTooLarge
	}
	b.b = append(b.b, p...)
	return len(p), nil
}

// Bytes is what was written.
func (b *Buffer) Bytes() []byte { return b.b }

// WithPicker gives the forwarder the seat's own file dialogs; without them
// a method that asks for a file fails with CodeNoPicker.
func (f *Forwarder) WithPicker(p Picker) *Forwarder {
	f.picker = p
	return f
}

// file runs steps 2 and 3 for a method whose first answer asked for a
// file; cancelled is that answer's result.
func (f *Forwarder) file(ctx context.Context, req Request, ask FileAsk, cancelled []byte) ([]byte, error) {
	if f.picker == nil {
		return nil, &Error{Code: CodeNoPicker}
	}
	switch ask.Kind {
	case FileSave:
		path, err := f.picker.SaveFile(ctx, ask.Title, ask.Name)
		if err != nil {
			return nil, &Error{Code: CodeFileWrite, cause: fmt.Errorf("the save dialog: %w", err)}
		}
		if path == "" {
			return cancelled, nil
		}
		req.File = &FileStep{Path: path}
		ans, err := f.send(ctx, req)
		if err != nil {
			return nil, err
		}
		if err := atomicfile.WriteBytes(path, ans.Content); err != nil {
			return nil, &Error{Code: CodeFileWrite, cause: err}
		}
		return ans.result(), nil
	case FileOpen:
		path, err := f.picker.OpenFile(ctx, ask.Title)
		if err != nil {
			return nil, &Error{Code: CodeFileRead, cause: fmt.Errorf("the open dialog: %w", err)}
		}
		if path == "" {
			return cancelled, nil
		}
		data, err := readFile(path)
		if errors.Is(err, ErrFileTooLarge) {
			return nil, &Error{Code: CodeFileTooLarge, cause: err}
		}
		if err != nil {
			return nil, &Error{Code: CodeFileRead, cause: err}
		}
		req.File = &FileStep{Path: path, Content: data}
		ans, err := f.send(ctx, req)
		if err != nil {
			return nil, err
		}
		return ans.result(), nil
	}
	return nil, &Error{Code: CodeInternal, cause: fmt.Errorf("the primary asks for a file dialog of kind %q", ask.Kind)}
}

// readFile reads a picked file of at most MaxFile bytes.
func readFile(path string) ([]byte, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", filepath.Base(path), err)
	}
	defer fh.Close()
	data, err := io.ReadAll(io.LimitReader(fh, MaxFile+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", filepath.Base(path), err)
	}
	if len(data) > MaxFile {
		return nil, ErrFileTooLarge
	}
	return data, nil
}
