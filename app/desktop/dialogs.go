package desktop

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync/atomic"

	"github.com/wailsapp/wails/v2/pkg/runtime"
)

// dialogs is the facade's FilePicker: the native open and save dialogs.
type dialogs struct {
	window *atomic.Pointer[context.Context]
}

var errNoWindow = errors.New("the window is not open yet")

var csvFilters = []runtime.FileFilter{
	{DisplayName: "CSV / TSV (*.csv, *.tsv, *.txt)", Pattern: "*.csv;*.tsv;*.txt;*.CSV;*.TSV;*.TXT"},
	{DisplayName: "*", Pattern: "*"},
}

func (d dialogs) OpenFile(_ context.Context, title string) (string, error) {
	ctx := d.window.Load()
	if ctx == nil {
		return "", errNoWindow
	}
	return runtime.OpenFileDialog(*ctx, runtime.OpenDialogOptions{Title: title, Filters: csvFilters})
}

func (d dialogs) SaveFile(_ context.Context, title, defaultName string) (string, error) {
	ctx := d.window.Load()
	if ctx == nil {
		return "", errNoWindow
	}
	return runtime.SaveFileDialog(*ctx, runtime.SaveDialogOptions{Title: title, DefaultFilename: defaultName, Filters: saveFilters(defaultName)})
}

// saveFilters offers the type of the suggested file: a customer's photo
// must not be offered as CSV.
func saveFilters(name string) []runtime.FileFilter {
	ext := strings.ToLower(filepath.Ext(name))
	switch ext {
	case ".csv", ".tsv", ".txt":
		return csvFilters
	case "":
		return nil
	}
	return []runtime.FileFilter{{DisplayName: "*" + ext, Pattern: "*" + ext + ";*" + strings.ToUpper(ext)}, {DisplayName: "*", Pattern: "*"}}
}

func (d dialogs) OpenFolder(_ context.Context, title string) (string, error) {
	ctx := d.window.Load()
	if ctx == nil {
		return "", errNoWindow
	}
	return runtime.OpenDirectoryDialog(*ctx, runtime.OpenDialogOptions{Title: title, CanCreateDirectories: true})
}

// confirmCloseWithSeats asks before the primary's window closes while n
// seats are signed in: they cannot work until it is back.
func confirmCloseWithSeats(ctx context.Context, n int) bool {
	const quit, stay = "終了する", "キャンセル"
	res, err := runtime.MessageDialog(ctx, runtime.MessageDialogOptions{
		Type:          runtime.QuestionDialog,
		Title:         "子機が接続中です",
		Message:       seatsCloseMessage(n),
		Buttons:       []string{quit, stay},
		DefaultButton: stay,
		CancelButton:  stay,
	})
	if err != nil {
		return true // no dialog: do not keep a window from closing forever
	}
	// GTK's question dialog answers Yes/No whatever the buttons say.
	return res == quit || res == "Yes"
}

// seatsCloseMessage is the close confirmation's text (Japanese first, as
// the window; the English below for an English-speaking administrator).
func seatsCloseMessage(n int) string {
	return fmt.Sprintf("%d 台の子機が接続中です。終了すると子機では作業できなくなります。\n終了しますか？\n\n%d seat(s) are connected. If you quit, they cannot work until this PC is back.", n, n)
}
