package relay

import (
	"strings"
	"testing"
)

func TestCheckWebhookShape(t *testing.T) {
	deepArr := []byte(`{"events":` + strings.Repeat("[", 100_000) + strings.Repeat("]", 100_000) + `}`)
	deepObj := []byte(strings.Repeat(`{"a":`, 100_000) + "1" + strings.Repeat("}", 100_000))
	for _, tc := range []struct {
		name string
		body string
		ok   bool
	}{
		{"line verification", `{"destination":"U8e742f61d673b39c7fff3cecb7536ef0","events":[]}`, true},
		{"no destination", `{"events":[{"type":"message"}]}`, true},
		{"whitespace", " \n{ \"events\" : [ ] }\n", true},
		{"nested to the limit", `{"events":[` + strings.Repeat(`{"a":`, maxJSONDepth-2) + "1" + strings.Repeat("}", maxJSONDepth-2) + `]}`, true},
		{"brackets in strings do not nest", `{"events":[],"x":"` + strings.Repeat("[{", 1000) + `\"]"}`, true},
		{"empty", ``, false},
		{"not json", `hello`, false},
		{"truncated", `{"events":[`, false},
		{"array", `[{"events":[]}]`, false},
		{"string", `"events"`, false},
		{"no events", `{"destination":"U1"}`, false},
		{"events object", `{"events":{}}`, false},
		{"events null", `{"events":null}`, false},
		{"events string", `{"events":"[]"}`, false},
		{"destination number", `{"destination":1,"events":[]}`, false},
		{"destination object", `{"destination":{},"events":[]}`, false},
		{"one level too deep", `{"events":[` + strings.Repeat(`{"a":`, maxJSONDepth-1) + "1" + strings.Repeat("}", maxJSONDepth-1) + `]}`, false},
		{"deep arrays", string(deepArr), false},
		{"deep objects", string(deepObj), false},
		{"trailing junk", `{"events":[]} x`, false},
		{"binary", "\x00\xff{\"events\":[]}", false},
	} {
		if got := checkWebhookShape([]byte(tc.body)) == nil; got != tc.ok {
			t.Errorf("%s: accepted %v, want %v", tc.name, got, tc.ok)
		}
	}
}

// TestDeepNestingRefusedCheaply: a megabyte of nesting is refused by the
// depth scan alone, without the decoder allocating per level.
func TestDeepNestingRefusedCheaply(t *testing.T) {
	body := []byte(`{"events":` + strings.Repeat("[", 1<<20))
	allocs := testing.AllocsPerRun(5, func() {
		if checkWebhookShape(body) == nil {
			t.Fatal("accepted")
		}
	})
	if allocs > 2 {
		t.Fatalf("refusing deep nesting allocated %v times per call", allocs)
	}
}

func TestSizeClass(t *testing.T) {
	prev := int64(0)
	for n := 0; n <= 2<<20; n += 997 {
		c := sizeClass(n)
		if c < int64(n) || c < prev || (n > 1024 && float64(c) > 1.25*float64(n)+1) {
			t.Fatalf("sizeClass(%d) = %d (previous %d)", n, c, prev)
		}
		prev = c
	}
	if sizeClass(0) != 1024 || sizeClass(1024) != 1024 || sizeClass(1025) != 1280 || sizeClass(1<<20) != 1<<20 {
		t.Fatal("class bounds moved: stored subjects depend on them")
	}
}
