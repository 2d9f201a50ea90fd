package backup

import (
	"errors"
	"reflect"
	"testing"

	"tsunagu/internal/fielderr"
)

// The backup screen marks every wrong field at once, by its JSON name.
func TestSettingsValidateNamesWrongFields(t *testing.T) {
	for _, tt := range []struct {
		name string
		in   Settings
		want []fielderr.FieldError
	}{
		{"fine", Settings{Dir: abs(t), Keep: 14, IntervalHours: 24}, nil},
		{"default folder, no schedule", Settings{Keep: 1, IntervalHours: 0}, nil},
		{"all wrong", Settings{Dir: "backups", Keep: 0, IntervalHours: 169}, []fielderr.FieldError{
			{Field: "dir", Code: fielderr.AbsPath},
			{Field: "keep", Code: fielderr.Between, Min: 1, Max: 365},
			{Field: "intervalHours", Code: fielderr.Between, Min: 0, Max: 168},
		}},
		{"too many kept", Settings{Keep: 366, IntervalHours: -1}, []fielderr.FieldError{
			{Field: "keep", Code: fielderr.Between, Min: 1, Max: 365},
			{Field: "intervalHours", Code: fielderr.Between, Min: 0, Max: 168},
		}},
	} {
		err := tt.in.Validate()
		if got := fielderr.Fields(err); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: fields %+v, want %+v", tt.name, got, tt.want)
		}
		if (tt.want != nil) != errors.Is(err, ErrInvalidSettings) {
			t.Errorf("%s: %v, want ErrInvalidSettings: %v", tt.name, err, tt.want != nil)
		}
	}
}

func abs(t *testing.T) string { return t.TempDir() }
