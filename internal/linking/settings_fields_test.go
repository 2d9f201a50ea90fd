package linking

import (
	"errors"
	"reflect"
	"testing"

	"tsunagu/internal/fielderr"
)

// The link settings form marks every wrong field at once, by its JSON name.
func TestSettingsValidateNamesWrongFields(t *testing.T) {
	for _, tt := range []struct {
		name string
		in   Settings
		want []fielderr.FieldError
	}{
		{"fine", Settings{CodeValidityDays: 14, IdentityCheck: IdentityOff}, nil},
		{"longest, birth date", Settings{CodeValidityDays: MaxCodeDays, IdentityCheck: IdentityBirthDate}, nil},
		{"both wrong", Settings{CodeValidityDays: 0, IdentityCheck: "pin"}, []fielderr.FieldError{
			{Field: "codeValidityDays", Code: fielderr.Between, Min: 1, Max: MaxCodeDays},
			{Field: "identityCheck", Code: fielderr.Choose},
		}},
		{"too long", Settings{CodeValidityDays: MaxCodeDays + 1, IdentityCheck: IdentityOff}, []fielderr.FieldError{
			{Field: "codeValidityDays", Code: fielderr.Between, Min: 1, Max: MaxCodeDays},
		}},
	} {
		err := tt.in.Validate()
		if got := fielderr.Fields(err); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: fields %+v, want %+v", tt.name, got, tt.want)
		}
		if (tt.want != nil) != errors.Is(err, ErrInvalidSetting) {
			t.Errorf("%s: %v, want ErrInvalidSetting: %v", tt.name, err, tt.want != nil)
		}
	}
}
