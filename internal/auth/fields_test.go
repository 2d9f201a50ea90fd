package auth_test

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"

	"tsunagu/internal/auth"
	"tsunagu/internal/fielderr"
)

// The staff form marks the wrong fields (issue 19 item 6): every wrong
// field of a new account is named by its JSON name in NewStaff, all at
// once, and a weak password alone keeps its own sentinel.
func TestStaffFormNamesWrongFields(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	admin := f.admin(t)
	for _, tt := range []struct {
		name     string
		in       auth.NewStaff
		sentinel error
		want     []fielderr.FieldError
	}{
		{"empty form", auth.NewStaff{}, auth.ErrInvalid, []fielderr.FieldError{
			{Field: "login", Code: fielderr.Required}, {Field: "displayName", Code: fielderr.Required},
			{Field: "role", Code: fielderr.Choose}, {Field: "password", Code: fielderr.Required}}},
		{"login with a space, short password", auth.NewStaff{Login: "tanaka ichiro", DisplayName: "田中", Role: auth.RoleOperator, Password: "short"}, auth.ErrInvalid,
			[]fielderr.FieldError{{Field: "login", Code: fielderr.Format}, {Field: "password", Code: fielderr.TooShort, Min: auth.MinPasswordLen}}},
		{"login with a full-width space", auth.NewStaff{Login: "田中\u3000一郎", DisplayName: "田中", Role: auth.RoleOperator, Password: "long enough pass"}, auth.ErrInvalid,
			[]fielderr.FieldError{{Field: "login", Code: fielderr.Format}}},
		{"long names", auth.NewStaff{Login: strings.Repeat("a", 65), DisplayName: strings.Repeat("名", 201), Role: auth.RoleOperator, Password: "long enough pass"}, auth.ErrInvalid,
			[]fielderr.FieldError{{Field: "login", Code: fielderr.TooLong, Max: 64}, {Field: "displayName", Code: fielderr.TooLong, Max: 200}}},
		{"weak password only", auth.NewStaff{Login: "tanaka", DisplayName: "田中", Role: auth.RoleOperator, Password: "123456789"}, auth.ErrWeakPassword,
			[]fielderr.FieldError{{Field: "password", Code: fielderr.TooShort, Min: auth.MinPasswordLen}}},
		{"blank password", auth.NewStaff{Login: "tanaka", DisplayName: "田中", Role: auth.RoleOperator, Password: "            "}, auth.ErrWeakPassword,
			[]fielderr.FieldError{{Field: "password", Code: fielderr.Required}}},
	} {
		_, err := f.svc.CreateStaff(ctx, admin.Actor(), tt.in)
		if !errors.Is(err, tt.sentinel) {
			t.Errorf("%s: %v, want %v", tt.name, err, tt.sentinel)
		}
		if got := fielderr.Fields(err); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: fields %+v, want %+v", tt.name, got, tt.want)
		}
		if tt.in.Password != "" && strings.Contains(err.Error(), tt.in.Password) {
			t.Errorf("%s: the error text holds the password", tt.name)
		}
	}
	// A taken login is the login field's.
	_, err := f.svc.CreateStaff(ctx, admin.Actor(), auth.NewStaff{Login: "admin", DisplayName: "別人", Role: auth.RoleOperator, Password: "long enough pass"})
	if !errors.Is(err, auth.ErrLoginTaken) || !reflect.DeepEqual(fielderr.Fields(err), []fielderr.FieldError{{Field: "login", Code: fielderr.Taken}}) {
		t.Errorf("taken login: %v %+v", err, fielderr.Fields(err))
	}
	// A password reset names the password; an unknown role names the role.
	clerk, err := f.svc.CreateStaff(ctx, admin.Actor(), auth.NewStaff{Login: "tanaka", DisplayName: "田中", Role: auth.RoleOperator, Password: "long enough pass"})
	if err != nil {
		t.Fatal(err)
	}
	err = f.svc.ResetPassword(ctx, admin.Actor(), clerk.ID, "short")
	if !errors.Is(err, auth.ErrWeakPassword) || !reflect.DeepEqual(fielderr.Fields(err), []fielderr.FieldError{{Field: "password", Code: fielderr.TooShort, Min: auth.MinPasswordLen}}) {
		t.Errorf("short reset: %v %+v", err, fielderr.Fields(err))
	}
	err = f.svc.SetRole(ctx, admin.Actor(), clerk.ID, auth.Role("boss"))
	if !errors.Is(err, auth.ErrInvalid) || !reflect.DeepEqual(fielderr.Fields(err), []fielderr.FieldError{{Field: "role", Code: fielderr.Choose}}) {
		t.Errorf("unknown role: %v %+v", err, fielderr.Fields(err))
	}
}

// The first-run form uses the staff rules (issue 19 item 6): every wrong
// field of the first administrator is named by the same paths, all at
// once, and nothing is created.
func TestFirstAdminNamesWrongFields(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	for _, tt := range []struct {
		name     string
		in       auth.NewStaff
		sentinel error
		want     []fielderr.FieldError
	}{
		{"empty form", auth.NewStaff{}, auth.ErrInvalid, []fielderr.FieldError{
			{Field: "login", Code: fielderr.Required}, {Field: "displayName", Code: fielderr.Required}, {Field: "password", Code: fielderr.Required}}},
		{"login with a slash, long name, short password", auth.NewStaff{Login: "branch/admin", DisplayName: strings.Repeat("長", 201), Password: "short"}, auth.ErrInvalid,
			[]fielderr.FieldError{{Field: "login", Code: fielderr.Format}, {Field: "displayName", Code: fielderr.TooLong, Max: 200},
				{Field: "password", Code: fielderr.TooShort, Min: auth.MinPasswordLen}}},
		{"weak password only", auth.NewStaff{Login: "admin", DisplayName: "支店長", Password: "123456789"}, auth.ErrWeakPassword,
			[]fielderr.FieldError{{Field: "password", Code: fielderr.TooShort, Min: auth.MinPasswordLen}}},
	} {
		_, err := f.svc.CreateFirstAdmin(ctx, tt.in)
		if !errors.Is(err, tt.sentinel) {
			t.Errorf("%s: %v, want %v", tt.name, err, tt.sentinel)
		}
		if got := fielderr.Fields(err); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: fields %+v, want %+v", tt.name, got, tt.want)
		}
	}
	if done, err := f.svc.HasStaff(ctx); err != nil || done {
		t.Errorf("a refused first administrator was created: %v %v", done, err)
	}
}
