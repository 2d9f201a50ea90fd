package linesim

import (
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/line/line-bot-sdk-go/v8/linebot/webhook"
)

func TestSignMatchesLINEDocVector(t *testing.T) {
	// The example from LINE's "Verify webhook signature" documentation.
	body := []byte(`{"destination":"U8e742f61d673b39c7fff3cecb7536ef0","events":[]}`)
	const want = "GhRKmvmHys4Pi8DxkF4+EayaH0OqtJtaZxgTD9fMDLs="
	if got := Sign("8c570fa6dd201bb328f1c1eac23a96d8", body); got != want {
		t.Fatalf("Sign = %q, want %q", got, want)
	}
	if !webhook.ValidateSignature("8c570fa6dd201bb328f1c1eac23a96d8", Sign("8c570fa6dd201bb328f1c1eac23a96d8", []byte("x")), []byte("x")) {
		t.Fatal("SDK rejects Sign's output")
	}
}

func TestNewUserID(t *testing.T) {
	seen := map[string]bool{}
	for range 100 {
		id := NewUserID()
		if !isUserID(id) {
			t.Fatalf("NewUserID() = %q, not U + 32 lowercase hex", id)
		}
		if seen[id] {
			t.Fatalf("NewUserID repeated %q", id)
		}
		seen[id] = true
	}
}

// decodeULIDTime reads the millisecond time from a ULID's first 10 digits.
func decodeULIDTime(t *testing.T, id string) int64 {
	t.Helper()
	var ms int64
	for _, c := range id[:10] {
		v := strings.IndexRune(crockford, c)
		if v < 0 {
			t.Fatalf("%q: %q is not Crockford base32", id, c)
		}
		ms = ms<<5 | int64(v)
	}
	return ms
}

func TestEventIDIsULID(t *testing.T) {
	base := time.Date(2026, 4, 1, 9, 0, 0, 123_000_000, time.UTC)
	var ids []string
	for i := range 50 {
		at := base.Add(time.Duration(i) * time.Millisecond)
		id := newEventID(at)
		if len(id) != 26 {
			t.Fatalf("newEventID = %q, %d chars, want 26", id, len(id))
		}
		if id[0] > '7' {
			t.Fatalf("newEventID = %q: first digit above 7 overflows 128 bits", id)
		}
		if got := decodeULIDTime(t, id); got != at.UnixMilli() {
			t.Fatalf("newEventID(%v) encodes %d ms, want %d", at, got, at.UnixMilli())
		}
		ids = append(ids, id)
	}
	if !sort.StringsAreSorted(ids) {
		t.Fatalf("event IDs from increasing times do not sort: %v", ids)
	}
	if a, b := newEventID(base), newEventID(base); a == b {
		t.Fatalf("two event IDs at the same time are equal: %q", a)
	}
}

func TestIDPredicates(t *testing.T) {
	u := "U" + strings.Repeat("a1", 16)
	tests := []struct {
		id             string
		user, receiver bool
	}{
		{u, true, true},
		{"C" + u[1:], false, true},
		{"R" + u[1:], false, true},
		{"X" + u[1:], false, false},
		{"U" + strings.Repeat("A1", 16), false, false}, // uppercase hex
		{u[:32], false, false},
		{u + "0", false, false},
		{"", false, false},
	}
	for _, tt := range tests {
		if got := isUserID(tt.id); got != tt.user {
			t.Errorf("isUserID(%q) = %v, want %v", tt.id, got, tt.user)
		}
		if got := isRecipientID(tt.id); got != tt.receiver {
			t.Errorf("isRecipientID(%q) = %v, want %v", tt.id, got, tt.receiver)
		}
	}
}

func TestUTF16Len(t *testing.T) {
	tests := []struct {
		s    string
		want int
	}{
		{"", 0},
		{"abc", 3},
		{"こんにちは", 5},
		{"☎", 1},
		{"😀", 2},
		{"a😀b", 4},
		{"\r\n", 2},
	}
	for _, tt := range tests {
		if got := utf16Len(tt.s); got != tt.want {
			t.Errorf("utf16Len(%q) = %d, want %d", tt.s, got, tt.want)
		}
	}
}
