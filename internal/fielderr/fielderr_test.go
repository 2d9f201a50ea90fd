package fielderr

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

var errInvalid = errors.New("thing: invalid")

func TestListCollectsEveryField(t *testing.T) {
	var l List
	if err := l.Err(errInvalid); err != nil {
		t.Fatalf("no fields: %v, want nil", err)
	}
	l.Add("email.subject", Required)
	l.AddMax("sms.text", SMSParts, 10)
	err := l.Err(errInvalid)
	if !errors.Is(err, errInvalid) {
		t.Errorf("%v does not wrap the sentinel", err)
	}
	want := []FieldError{{Field: "email.subject", Code: Required}, {Field: "sms.text", Code: SMSParts, Max: 10}}
	if got := Fields(fmt.Errorf("save: %w", err)); !reflect.DeepEqual(got, want) {
		t.Errorf("Fields = %+v, want %+v", got, want)
	}
	if s := err.Error(); !strings.Contains(s, "email.subject: Required") || !strings.Contains(s, "(max 10)") {
		t.Errorf("log text %q", s)
	}
}

func TestUnderMovesFieldsAndKeepsTheChain(t *testing.T) {
	part := New(errInvalid, "uri", LinkScheme)
	err := Under("areas.1.action", part)
	if got := Fields(err); !reflect.DeepEqual(got, []FieldError{{Field: "areas.1.action.uri", Code: LinkScheme}}) {
		t.Errorf("Fields = %+v", got)
	}
	if !errors.Is(err, errInvalid) {
		t.Error("Under lost the sentinel")
	}
	// The part's own error is left as it was.
	if got := Fields(part)[0].Field; got != "uri" {
		t.Errorf("part changed to %q", got)
	}
	// "" is the part itself.
	if got := Fields(Under("imageUrl", New(errInvalid, "", HTTPS)))[0].Field; got != "imageUrl" {
		t.Errorf("empty field under imageUrl = %q", got)
	}
	// Nested: the outer prefix goes in front.
	if got := Fields(Under("content", Under("line.0", New(errInvalid, "text", Required))))[0].Field; got != "content.line.0.text" {
		t.Errorf("nested = %q", got)
	}
	plain := errors.New("disk full")
	if Under("x", plain) != plain || Under("x", nil) != nil {
		t.Error("an error without fields must come back unchanged")
	}
}

func TestMerge(t *testing.T) {
	var l List
	if l.Merge(errors.New("other")) {
		t.Error("Merge of an error without fields reported fields")
	}
	if !l.Merge(New(errInvalid, "name", Taken)) || l.Len() != 1 {
		t.Errorf("Merge: %d fields", l.Len())
	}
}

func TestCodesAreDistinctMessageCodes(t *testing.T) {
	seen := map[string]bool{}
	for _, c := range Codes() {
		if seen[c] || !strings.HasPrefix(c, "errors.field") {
			t.Errorf("code %q repeated or not a message code", c)
		}
		seen[c] = true
	}
}
