package wire

import (
	"crypto/rand"
	"errors"
	"testing"

	"golang.org/x/crypto/nacl/box"
)

// A form submission opens as one; a version-4 box that is not a
// submission (bad JSON, no ID token, a form ID that is not a token) is a
// malformed envelope, never a webhook.
func TestOpenFormEnvelope(t *testing.T) {
	pub, priv, _ := GenerateBoxKey()
	id := "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
	sealed, err := SealForm(pub, FormSubmission{FormID: id, SubmitID: "0123456789abcdef", IDToken: "t", Answers: map[string]any{"q1": "x"}})
	if err != nil {
		t.Fatal(err)
	}
	o, err := OpenAny(pub, priv, sealed)
	if err != nil || o.Form == nil || o.Form.FormID != id || o.Body != nil || o.Click != nil {
		t.Fatalf("opened %+v %v", o, err)
	}
	for _, body := range []string{`{`, `{"formId":"` + id + `","submitId":"0123456789abcdef"}`, `{"formId":"x","submitId":"0123456789abcdef","idToken":"t"}`,
		`{"formId":"` + id + `","submitId":"short","idToken":"t"}`} {
		raw, _ := box.SealAnonymous(nil, append([]byte{formVersion}, body...), pub, rand.Reader)
		if _, err := OpenAny(pub, priv, raw); !errors.Is(err, ErrEnvelope) {
			t.Errorf("%s: %v", body, err)
		}
	}
}
