package importer

import (
	"bytes"
	"fmt"
	"io"
	"unicode/utf8"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/japanese"
	"golang.org/x/text/transform"
)

// Encodings of input files. Shift_JIS means Windows code page 932: the
// decoder (WHATWG's Shift_JIS) includes the NEC and IBM extensions (①, ㈱,
// ㍻, 髙) that core-banking exports made on Windows contain.
const (
	EncodingAuto  = "auto"
	EncodingUTF8  = "utf-8"
	EncodingSJIS  = "sjis"
	EncodingEUCJP = "euc-jp"
)

var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// ParseEncoding accepts the names staff and scripts use.
func ParseEncoding(s string) (string, error) {
	switch s {
	case "", "auto":
		return EncodingAuto, nil
	case "utf-8", "utf8", "UTF-8", "utf-8-bom":
		return EncodingUTF8, nil
	case "sjis", "shift_jis", "Shift_JIS", "cp932", "CP932", "windows-31j", "ms932":
		return EncodingSJIS, nil
	case "euc-jp", "eucjp", "EUC-JP":
		return EncodingEUCJP, nil
	}
	return "", fmt.Errorf("unknown encoding %q (auto, utf-8, sjis, euc-jp)", s)
}

// DetectEncoding guesses the encoding of a sample from the start of a file.
// A BOM or valid UTF-8 wins; otherwise the sample is decoded as Shift_JIS and
// as EUC-JP and the one with fewer invalid sequences, then more ordinary
// Japanese text (kana and kanji rather than half-width kana), is chosen.
func DetectEncoding(sample []byte) string {
	if bytes.HasPrefix(sample, utf8BOM) {
		return EncodingUTF8
	}
	if validUTF8Prefix(sample) {
		return EncodingUTF8
	}
	sj := score(japanese.ShiftJIS, sample)
	euc := score(japanese.EUCJP, sample)
	if euc > sj {
		return EncodingEUCJP
	}
	return EncodingSJIS
}

// validUTF8Prefix is utf8.Valid, tolerating a rune cut at the sample's end.
func validUTF8Prefix(b []byte) bool {
	if utf8.Valid(b) {
		return true
	}
	for cut := 1; cut <= 3 && cut < len(b); cut++ {
		if utf8.Valid(b[:len(b)-cut]) {
			return !utf8.FullRune(b[len(b)-cut:])
		}
	}
	return false
}

func score(enc encoding.Encoding, sample []byte) int {
	out, _, _ := transform.Bytes(enc.NewDecoder(), sample)
	s := 0
	for _, r := range string(out) {
		switch {
		case r == utf8.RuneError:
			s -= 20
		case r >= 0x3040 && r <= 0x30FF, r >= 0x4E00 && r <= 0x9FFF:
			s += 2 // hiragana, katakana, common kanji
		case r >= 0xFF61 && r <= 0xFF9F:
			s++ // half-width katakana: plausible, but less than the above
		case r >= 0xE000 && r <= 0xF8FF:
			s -= 5 // private use: user-defined characters, rarely real
		}
	}
	return s
}

// decoder returns a reader of UTF-8 text from r in the given encoding,
// dropping a UTF-8 BOM.
func decoder(r io.Reader, enc string) (io.Reader, error) {
	switch enc {
	case EncodingUTF8:
		return &bomSkipper{r: r}, nil
	case EncodingSJIS:
		return transform.NewReader(r, japanese.ShiftJIS.NewDecoder()), nil
	case EncodingEUCJP:
		return transform.NewReader(r, japanese.EUCJP.NewDecoder()), nil
	}
	return nil, fmt.Errorf("unknown encoding %q", enc)
}

type bomSkipper struct {
	r    io.Reader
	done bool
}

func (b *bomSkipper) Read(p []byte) (int, error) {
	if b.done {
		return b.r.Read(p)
	}
	b.done = true
	var head [3]byte
	n, err := io.ReadFull(b.r, head[:])
	rest := head[:n]
	if bytes.Equal(rest, utf8BOM) {
		rest = nil
	}
	if len(rest) > 0 {
		c := copy(p, rest)
		if c < len(rest) { // p smaller than 3 bytes: unlikely, keep it correct
			b.r = io.MultiReader(bytes.NewReader(rest[c:]), b.r)
		}
		return c, nil
	}
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return 0, io.EOF
	}
	if err != nil {
		return 0, err
	}
	return b.r.Read(p)
}
