package main

import (
	"context"
	"path/filepath"
)

// presetPicker stands in for the native file dialogs, which a browser test
// cannot click: the open dialog answers --pick-file, the save dialog a file
// of the suggested name in --save-dir, the folder dialog --pick-dir.
type presetPicker struct{ open, saveDir, dir string }

func (p presetPicker) OpenFolder(context.Context, string) (string, error) { return p.dir, nil }

func (p presetPicker) OpenFile(context.Context, string) (string, error) { return p.open, nil }

func (p presetPicker) SaveFile(_ context.Context, _, defaultName string) (string, error) {
	return filepath.Join(p.saveDir, filepath.Base(defaultName)), nil
}
