package customer_test

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"

	"tsunagu/internal/customer"
	"tsunagu/internal/fielderr"
)

// The customer administration forms mark the wrong fields (issue 19 item
// 6): a tag's name and every wrong field of an attribute definition, by
// their JSON names, all at once.
func TestAdminFormsNameWrongFields(t *testing.T) {
	ctx := context.Background()
	_, svc := setup(t)
	for _, tt := range []struct {
		name     string
		tag      string
		sentinel error
		want     []fielderr.FieldError
	}{
		{"blank", "　 ", customer.ErrInvalid, []fielderr.FieldError{{Field: "name", Code: fielderr.Required}}},
		{"long", strings.Repeat("長", 51), customer.ErrInvalid, []fielderr.FieldError{{Field: "name", Code: fielderr.TooLong, Max: 50}}},
		{"control character", "VIP\x07", customer.ErrControl, []fielderr.FieldError{{Field: "name", Code: fielderr.Format}}},
	} {
		err := svc.CreateTag(ctx, "staff:admin", tt.tag)
		if !errors.Is(err, tt.sentinel) || !reflect.DeepEqual(fielderr.Fields(err), tt.want) {
			t.Errorf("tag %s: %v %+v, want %+v", tt.name, err, fielderr.Fields(err), tt.want)
		}
	}
	if err := svc.CreateTag(ctx, "staff:admin", "VIP"); err != nil {
		t.Fatal(err)
	}
	err := svc.CreateTag(ctx, "staff:admin", "ＶＩＰ")
	if !errors.Is(err, customer.ErrInvalid) || !reflect.DeepEqual(fielderr.Fields(err), []fielderr.FieldError{{Field: "name", Code: fielderr.Taken}}) {
		t.Errorf("taken tag: %v %+v", err, fielderr.Fields(err))
	}

	for _, tt := range []struct {
		name string
		def  customer.AttributeDef
		want []fielderr.FieldError
	}{
		{"empty form", customer.AttributeDef{}, []fielderr.FieldError{
			{Field: "key", Code: fielderr.Required}, {Field: "label", Code: fielderr.Required}, {Field: "type", Code: fielderr.Choose}}},
		{"key with a hyphen, choice without choices", customer.AttributeDef{Key: "income-band", Label: "年収帯", Type: "choice", Choices: []string{" ", ""}},
			[]fielderr.FieldError{{Field: "key", Code: fielderr.Format}, {Field: "choices", Code: fielderr.Required}}},
		{"unknown type, no label", customer.AttributeDef{Key: "memo", Type: "color"},
			[]fielderr.FieldError{{Field: "label", Code: fielderr.Required}, {Field: "type", Code: fielderr.Choose}}},
	} {
		err := svc.DefineAttribute(ctx, "staff:admin", tt.def)
		if !errors.Is(err, customer.ErrInvalid) || !reflect.DeepEqual(fielderr.Fields(err), tt.want) {
			t.Errorf("attribute %s: %v %+v, want %+v", tt.name, err, fielderr.Fields(err), tt.want)
		}
	}
	err = svc.DefineAttribute(ctx, "staff:admin", customer.AttributeDef{Key: "size", Label: "サイズ", Type: "choice", Choices: []string{"S", "M\x00"}})
	if !errors.Is(err, customer.ErrControl) || !reflect.DeepEqual(fielderr.Fields(err), []fielderr.FieldError{{Field: "choices.1", Code: fielderr.Format}}) {
		t.Errorf("control character in a choice: %v %+v", err, fielderr.Fields(err))
	}
	if err := svc.DefineAttribute(ctx, "staff:admin", customer.AttributeDef{Key: "memo", Label: "メモ", Type: "text"}); err != nil {
		t.Fatal(err)
	}
	err = svc.DefineAttribute(ctx, "staff:admin", customer.AttributeDef{Key: "ＭＥＭＯ", Label: "別のメモ", Type: "text"})
	if !errors.Is(err, customer.ErrInvalid) || !reflect.DeepEqual(fielderr.Fields(err), []fielderr.FieldError{{Field: "key", Code: fielderr.Taken}}) {
		t.Errorf("taken key: %v %+v", err, fielderr.Fields(err))
	}
}
