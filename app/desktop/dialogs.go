package desktop

import (
	"context"
	"errors"
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
