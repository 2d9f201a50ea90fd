package wire

import (
	"strings"
	"testing"
)

// A route visit opens as a visit, never as a click or a webhook, with the
// token and time it was sealed with and a fresh ID each time.
func TestSealVisitOpensAsVisit(t *testing.T) {
	pub, priv, err := GenerateBoxKey()
	if err != nil {
		t.Fatal(err)
	}
	token := strings.Repeat("Ab-_", TokenLen/4)
	a, err := SealVisit(pub, token, 1733450000000)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := SealVisit(pub, token, 1733450000000)
	oa, err := OpenAny(pub, priv, a)
	if err != nil {
		t.Fatal(err)
	}
	ob, _ := OpenAny(pub, priv, b)
	if oa.Visit == nil || oa.Click != nil || oa.Body != nil || oa.Visit.Token != token || oa.Visit.At != 1733450000000 {
		t.Fatalf("opened %+v", oa)
	}
	if oa.Visit.ID == ob.Visit.ID {
		t.Fatal("two visits share an ID")
	}
	c, _ := SealClick(pub, token, 1)
	if oc, err := OpenAny(pub, priv, c); err != nil || oc.Click == nil || oc.Visit != nil {
		t.Fatalf("a click opened as %+v, %v", oc, err)
	}
	if _, err := SealVisit(pub, "short", 1); err == nil {
		t.Fatal("sealed a visit of a malformed token")
	}
}
