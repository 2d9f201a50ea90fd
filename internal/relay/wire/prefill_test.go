package wire

import (
	"encoding/hex"
	"reflect"
	"testing"
)

// The one prefill vector both sides test: the page
// (frontend/tests/unit/formspage-prefill.test.ts) derives the same key and
// opens this blob to the same values.
const (
	vectorKeyHex  = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
	vectorUser    = "U0123456789abcdef0123456789abcdef"
	vectorForm    = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	vectorNonce   = "f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff0001020304050607"
	vectorBoxKey  = "cc6923f1cf815a160dad1502c8aba60076759fe7013cec3cc49f0e1a076a026f"
	vectorBlobHex = "f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff0001020304050607fb08d29724164f4315891e1349f956337162da01bb55ddb524f0090fb48a15f8f49dd1c4ff95be87e7b4721f03198e9bbaa54f4e907a29e730a5d076793a2cb83217df5074d4abc8857c98f842ebc86206e89cc42682e879f2117d835475c4335ec0de10b5be54c0748f60b4b695603c8ae359aafa330db6470946419c454eff9ea293e19bcebb43d6713dde063ea89e14cd570f0d6c"
)

func vectorValues() map[string]any {
	return map[string]any{"name": "山田 花子", "addr": map[string]any{"code": "100-0005", "pref": "東京都", "city": "千代田区", "town": "丸の内1-1", "building": ""}}
}

func TestPrefillVector(t *testing.T) {
	key, _ := hex.DecodeString(vectorKeyHex)
	k, err := PrefillBoxKey(key, vectorUser, vectorForm)
	if err != nil {
		t.Fatal(err)
	}
	var nonce [24]byte
	n, _ := hex.DecodeString(vectorNonce)
	copy(nonce[:], n)
	blob, err := sealPrefill(k, &nonce, vectorValues())
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("box key %x\nblob %x", k[:], blob)
	if hex.EncodeToString(k[:]) != vectorBoxKey || hex.EncodeToString(blob) != vectorBlobHex {
		t.Errorf("the vector changed: box key %x, blob %x", k[:], blob)
	}
	got, err := OpenPrefill(key, vectorUser, vectorForm, blob)
	if err != nil || !reflect.DeepEqual(got, vectorValues()) {
		t.Fatalf("opened %v %v", got, err)
	}
	// Another user, another form, another key, a changed byte: nothing.
	other := append([]byte(nil), key...)
	other[0] ^= 1
	tampered := append([]byte(nil), blob...)
	tampered[len(tampered)-1] ^= 1
	for name, try := range map[string]func() (map[string]any, error){
		"user": func() (map[string]any, error) {
			return OpenPrefill(key, "U1123456789abcdef0123456789abcdef", vectorForm, blob)
		},
		"form": func() (map[string]any, error) {
			return OpenPrefill(key, vectorUser, "BAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", blob)
		},
		"key":   func() (map[string]any, error) { return OpenPrefill(other, vectorUser, vectorForm, blob) },
		"bytes": func() (map[string]any, error) { return OpenPrefill(key, vectorUser, vectorForm, tampered) },
		"short": func() (map[string]any, error) { return OpenPrefill(key[:16], vectorUser, vectorForm, blob) },
	} {
		if v, err := try(); err == nil {
			t.Errorf("%s: opened %v", name, v)
		}
	}
}
