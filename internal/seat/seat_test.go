package seat

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"errors"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestFingerprintShortAndPin(t *testing.T) {
	_, k1, _ := ed25519.GenerateKey(rand.Reader)
	_, k2, _ := ed25519.GenerateKey(rand.Reader)
	now := time.Now()
	a, err := NewIdentity(k1, "a", now)
	if err != nil {
		t.Fatal(err)
	}
	// Another certificate for the same key: the same fingerprint (only the
	// key is kept, the certificate is made at each start).
	a2, err := NewIdentity(k1, "a", now.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := NewIdentity(k2, "b", now)
	if !a.Fingerprint.Equal(a2.Fingerprint) || a.Fingerprint.Equal(b.Fingerprint) {
		t.Fatal("fingerprint is not the key's")
	}
	if bytes.Equal(a.Cert.Certificate[0], a2.Cert.Certificate[0]) {
		t.Fatal("certificates identical: serial not random")
	}
	short := a.Fingerprint.Short()
	if !regexp.MustCompile(`^\d{4}-\d{4}-\d{4}-\d{4}$`).MatchString(short) {
		t.Fatalf("short fingerprint %q", short)
	}
	for _, typed := range []string{short, strings.ReplaceAll(short, "-", ""), strings.ReplaceAll(short, "-", " "), toFullWidth(short)} {
		if got, err := NormalizeShort(typed); err != nil || got != short {
			t.Fatalf("NormalizeShort(%q) = %q, %v", typed, got, err)
		}
	}
	for _, bad := range []string{"", "1234", short + "1", "abcd-efgh-ijkl-mnop"} {
		if _, err := NormalizeShort(bad); !errors.Is(err, ErrBadFingerprint) {
			t.Fatalf("NormalizeShort(%q): %v", bad, err)
		}
	}
	if got, err := ParseFingerprint(a.Fingerprint.String()); err != nil || got != a.Fingerprint {
		t.Fatalf("parse: %v", err)
	}
	if err := Pin(a.Fingerprint)(a2.Fingerprint); err != nil {
		t.Fatal(err)
	}
	if err := Pin(a.Fingerprint)(b.Fingerprint); !errors.Is(err, ErrWrongPrimary) {
		t.Fatalf("other key passes the pin: %v", err)
	}
}

func toFullWidth(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return '０' + (r - '0')
		}
		return r
	}, s)
}

func TestCodes(t *testing.T) {
	seen := map[string]bool{}
	for range 50 {
		c, err := NewCode()
		if err != nil {
			t.Fatal(err)
		}
		if !regexp.MustCompile(`^[0-9A-HJKMNP-TV-Z]{5}-[0-9A-HJKMNP-TV-Z]{5}$`).MatchString(c) || seen[c] {
			t.Fatalf("code %q (repeat: %v)", c, seen[c])
		}
		seen[c] = true
	}
	h, err := HashCode("01ABC-DEFGH")
	if err != nil {
		t.Fatal(err)
	}
	// As typed: lower case, no dash, O for 0, I/L for 1, spaces.
	for _, typed := range []string{"01abcdefgh", "OIABC DEFGH", " 0LABC-DEFGH\n"} {
		if g, err := HashCode(typed); err != nil || !bytes.Equal(g, h) {
			t.Fatalf("HashCode(%q) differs (%v)", typed, err)
		}
	}
	if g, _ := HashCode("01ABC-DEFGJ"); bytes.Equal(g, h) {
		t.Fatal("different codes hash alike")
	}
	for _, bad := range []string{"", "01ABC-DEFG", "01ABC-DEFGU", "01ABC-DEFGH1"} {
		if _, err := HashCode(bad); !errors.Is(err, ErrCodeWrong) {
			t.Fatalf("HashCode(%q): %v", bad, err)
		}
	}
}

func TestFrames(t *testing.T) {
	var buf bytes.Buffer
	in := Frame{ID: 7, Method: "status", Body: []byte(`{"a":1}`)}
	if err := WriteFrame(&buf, in); err != nil {
		t.Fatal(err)
	}
	out, err := ReadFrame(&buf)
	if err != nil || out.ID != 7 || out.Method != "status" || string(out.Body) != `{"a":1}` {
		t.Fatalf("round trip: %+v %v", out, err)
	}
	// The hand-built envelope reads back as encoding/json would write it.
	for _, f := range []Frame{
		{},
		{ID: 1<<64 - 1, Method: "call", Body: []byte(`{"method":"ConversationPage","args":[{}]}`)},
		{Event: "inbox:changed", Body: []byte(`"顧客\"\u003c"`)},
		{ID: 3, Error: &WireError{Code: CodeInternal, Message: "bad \"thing\" <x>"}},
		{Event: "seat.online"},
	} {
		enc, err := EncodeFrame(f)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := json.Marshal(f)
		var got, exp any
		if err := json.Unmarshal(enc[4:], &got); err != nil {
			t.Fatalf("%+v encoded as %s: %v", f, enc[4:], err)
		}
		json.Unmarshal(want, &exp)
		if !reflect.DeepEqual(got, exp) || int(binary.BigEndian.Uint32(enc)) != len(enc)-4 {
			t.Fatalf("%+v: encoded %s, encoding/json %s", f, enc[4:], want)
		}
	}
	// A length over the limit is refused before anything is allocated.
	if _, err := ReadFrame(bytes.NewReader([]byte{0xff, 0xff, 0xff, 0xff})); err == nil || !strings.Contains(err.Error(), "limit") {
		t.Fatalf("huge frame: %v", err)
	}
	// Errors cross the wire as codes and come back as the sentinels.
	we := &WireError{Code: CodeOf(ErrCodeUsed), Message: "x"}
	if !errors.Is(we.Err(), ErrCodeUsed) {
		t.Fatal("code not mapped back")
	}
	if CodeOf(errors.New("other")) != "" {
		t.Fatal("unknown error has a code")
	}
}
