package postal

import (
	"encoding/json"
	"testing"
)

// The bundled table answers known codes by their chunk (one code, several
// towns; Hokkaido's leading zero), and every chunk stays small for a
// slow phone.
func TestTable(t *testing.T) {
	tb, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	if tb.Rows() < 100_000 {
		t.Fatalf("only %d rows", tb.Rows())
	}
	for code, want := range map[string][3]string{
		"1000001": {"東京都", "千代田区", "千代田"},
		"0600000": {"北海道", "札幌市中央区", ""},
		"9071801": {"沖縄県", "八重山郡与那国町", "与那国"},
	} {
		c, ok := tb.Chunk(code[:3])
		if !ok {
			t.Fatalf("no chunk %s", code[:3])
		}
		var m map[string][][3]string
		if err := json.Unmarshal(c.JSON, &m); err != nil {
			t.Fatal(err)
		}
		if len(m[code]) == 0 || m[code][0] != want {
			t.Errorf("%s: %v, want %v", code, m[code], want)
		}
	}
	// The largest prefixes (most codes) stay small for a slow phone.
	biggest, at := 0, ""
	for p, l := range tb.lines {
		if len(l) > biggest {
			biggest, at = len(l), p
		}
	}
	c, _ := tb.Chunk(at)
	if len(c.Gz) > 40_000 {
		t.Fatalf("chunk %s is %d bytes gzipped", at, len(c.Gz))
	}
	t.Logf("%d prefixes, the largest (%s, %d codes) %d bytes gzipped", len(tb.lines), at, biggest, len(c.Gz))
	if _, ok := tb.Chunk("abc"); ok {
		t.Fatal("a chunk for a non-prefix")
	}
}
