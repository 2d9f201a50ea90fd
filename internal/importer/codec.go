package importer

import (
	"sync"
	"unicode/utf8"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/japanese"
	"golang.org/x/text/transform"
)

// A codec decodes one record's raw bytes to UTF-8 and tells whether they
// round-trip in the file's encoding. The encoding is guessed from the
// file's start, so each line is checked on its own: a file that turns from
// Shift_JIS to UTF-8 halfway (two exports concatenated, a line pasted in
// from elsewhere) must not import the rest as mojibake.
//
// Round trip means: every byte sequence decodes to a character and that
// character encodes back to the same bytes. CP932 has ~400 duplicate codes
// (NEC row 13 and the NEC-selected IBM extensions repeat characters found
// elsewhere); they encode back to the other code of the same character and
// count as round-tripping, or real Windows exports would be refused. For
// Shift_JIS and EUC-JP that alone cannot catch UTF-8 text: UTF-8 Japanese
// is very often valid Shift_JIS (東京都 is 譚ｱ莠ｬ驛ｽ, and back again). So a
// line in a Shift_JIS or EUC-JP file that is valid UTF-8 and holds a 3- or
// 4-byte UTF-8 sequence (all of kana and kanji) is refused too; real
// Shift_JIS text practically never is, and half-width kana (single bytes)
// never form such a sequence.
type codec struct {
	utf8   bool
	single *[256]uint16   // rune of a single non-ASCII byte, 0: not a character alone
	pair   *[65536]uint16 // rune of a two-byte sequence, 0: invalid
	triple *[65536]uint16 // EUC-JP 0x8F + two bytes (JIS X 0212), nil for Shift_JIS
	lead   func(b byte) bool
}

// Why a line does not decode.
const (
	decodeOK = iota
	decodeInvalid
	decodeMixed // valid UTF-8 in a Shift_JIS or EUC-JP file
)

// The tables are built from x/text's decoders on first use (tens of
// milliseconds, 128 KiB each) and never change afterwards: the decoding is
// exactly x/text's, without its per-call cost, and field by field.
var (
	sjisOnce, eucOnce   sync.Once
	sjisCodec, eucCodec *codec
)

func newCodec(enc string) *codec {
	switch enc {
	case EncodingSJIS:
		sjisOnce.Do(func() { sjisCodec = buildCodec(japanese.ShiftJIS, isSJISLead, false) })
		return sjisCodec
	case EncodingEUCJP:
		eucOnce.Do(func() { eucCodec = buildCodec(japanese.EUCJP, isEUCLead, true) })
		return eucCodec
	}
	return &codec{utf8: true}
}

func isSJISLead(b byte) bool { return b >= 0x81 && b <= 0x9F || b >= 0xE0 && b <= 0xFC }
func isEUCLead(b byte) bool  { return b == 0x8E || b >= 0xA1 && b <= 0xFE }

func buildCodec(enc encoding.Encoding, lead func(byte) bool, triple bool) *codec {
	c := &codec{single: new([256]uint16), pair: new([65536]uint16), lead: lead}
	dec, en := enc.NewDecoder(), enc.NewEncoder()
	one := func(raw []byte) uint16 {
		out, _, err := transform.Bytes(dec, raw)
		if err != nil {
			return 0
		}
		r, n := utf8.DecodeRune(out)
		if r == utf8.RuneError || n != len(out) || r > 0xFFFF || r < 0x80 && len(raw) > 1 {
			return 0
		}
		// The character must encode back to a sequence that decodes to it
		// (the same bytes, or the canonical code of a duplicate).
		back, _, err := transform.Bytes(en, out)
		if err != nil {
			return 0
		}
		if again, _, err := transform.Bytes(dec, back); err != nil || string(again) != string(out) {
			return 0
		}
		return uint16(r)
	}
	for b := 0x80; b <= 0xFF; b++ {
		if !lead(byte(b)) && b != 0x8F {
			c.single[b] = one([]byte{byte(b)})
		}
	}
	for b1 := 0x80; b1 <= 0xFF; b1++ {
		if !lead(byte(b1)) {
			continue
		}
		for b2 := 0x40; b2 <= 0xFF; b2++ {
			c.pair[b1<<8|b2] = one([]byte{byte(b1), byte(b2)})
		}
	}
	if triple {
		c.triple = new([65536]uint16)
		for b2 := 0xA1; b2 <= 0xFE; b2++ {
			for b3 := 0xA1; b3 <= 0xFE; b3++ {
				c.triple[b2<<8|b3] = one([]byte{0x8F, byte(b2), byte(b3)})
			}
		}
	}
	return c
}

// check says whether a record's bytes (all its fields) decode; only lines
// with non-ASCII bytes get here.
func (c *codec) check(raw []byte) int {
	if c.utf8 {
		if utf8.Valid(raw) {
			return decodeOK
		}
		return decodeInvalid
	}
	if hasMultiByteUTF8(raw) {
		return decodeMixed
	}
	return decodeOK // decodeField reports invalid sequences
}

// hasMultiByteUTF8: raw is valid UTF-8 with at least one 3- or 4-byte
// sequence.
func hasMultiByteUTF8(raw []byte) bool {
	long := false
	for _, b := range raw {
		if b >= 0xE0 {
			long = true
			break
		}
	}
	return long && utf8.Valid(raw)
}

// decode appends the UTF-8 text of src to dst; ok is false at the first
// byte sequence that is not a round-tripping character.
func (c *codec) decode(dst, src []byte) (_ []byte, ok bool) {
	if c.utf8 {
		return append(dst, src...), true
	}
	for i := 0; i < len(src); {
		b := src[i]
		if b < utf8.RuneSelf {
			j := i + 1
			for j < len(src) && src[j] < utf8.RuneSelf {
				j++
			}
			dst = append(dst, src[i:j]...)
			i = j
			continue
		}
		var r uint16
		switch {
		case b == 0x8F && c.triple != nil:
			if i+2 < len(src) {
				r = c.triple[uint16(src[i+1])<<8|uint16(src[i+2])]
			}
			i += 3
		case c.lead(b):
			if i+1 < len(src) {
				r = c.pair[uint16(b)<<8|uint16(src[i+1])]
			}
			i += 2
		default:
			r = c.single[b]
			i++
		}
		if r == 0 {
			return dst, false
		}
		dst = utf8.AppendRune(dst, rune(r))
	}
	return dst, true
}
