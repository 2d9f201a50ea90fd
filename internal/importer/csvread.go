package importer

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"unicode/utf8"
)

// The reader splits the raw bytes of the file into records before anything
// is decoded, so that a hostile or broken file costs bounded memory and
// time whatever its size. This works on the raw bytes because quotes,
// delimiters and line breaks are ASCII and never part of a multi-byte
// character in UTF-8, Shift_JIS (trail bytes are 0x40 and above) or EUC-JP
// (all bytes 0x8E and above).
//
// Rules (docs/decisions.md, "Import"):
//   - A line ends at CR LF, LF or a lone CR (old Mac and Excel exports).
//   - A line is at most MaxRecordBytes raw bytes; a longer one fails the
//     whole import at once (ErrUnreadable): a file without line breaks
//     where the format needs them is not read to its end.
//   - A value in double quotes may hold line breaks, but then its record may
//     span at most MaxRecordLines lines and MaxRecordBytes bytes, the value
//     must be quoted strictly (a quote inside it doubled), no line inside it
//     after the first may hold a whole row's delimiters (the header's
//     columns − 1, at least 2), and the record must end with as many
//     columns as the header. Otherwise the quote is
//     reported as never closed on the line where the record starts
//     (ReasonQuote), and reading goes on with the next line, so the rows
//     after a broken quote are read as rows rather than swallowed.
//   - A value longer than MaxFieldBytes rejects its row (ReasonTooLong).
//   - A quote elsewhere (inside an unquoted value, or a stray one inside a
//     quoted value on a single line) is kept as a character, as before.
const (
	MaxRecordBytes = 1 << 20
	MaxFieldBytes  = 64 << 10
	MaxRecordLines = 16
)

// ErrUnreadable: the file cannot be read safely as CSV (a line longer than
// MaxRecordBytes, or a header whose quote is never closed). Nothing is
// written. The error is a *FileError.
var ErrUnreadable = errors.New("the file cannot be read as CSV")

// FileError says where and why a file cannot be read.
type FileError struct {
	Line    int    // 1-based
	Problem string // ProblemLineTooLong or ProblemHeaderQuote
}

// Problems of a FileError.
const (
	ProblemLineTooLong = "lineTooLong"
	ProblemHeaderQuote = "headerQuote"
)

func (e *FileError) Error() string {
	if e.Problem == ProblemLineTooLong {
		return fmt.Sprintf("line %d is longer than %d MiB: is the file missing its line breaks? Nothing was imported", e.Line, MaxRecordBytes>>20)
	}
	return fmt.Sprintf("line %d: the header's quote is never closed", e.Line)
}

func (e *FileError) Is(target error) bool { return target == ErrUnreadable }

// record is one record of the file.
type record struct {
	fields  []string // decoded; reused by the next read
	line    int      // where it starts
	endLine int
	issue   string // a Reason that rejects the whole row, or ""
	column  int    // the column of a ReasonTooLong or ReasonEncoding, -1: the whole line
}

type heldLine struct {
	b    []byte
	line int
}

// csvReader reads records from the raw bytes of a file.
type csvReader struct {
	src   io.Reader
	buf   []byte
	r, w  int // unread bytes are buf[r:w]
	seen  int // of those, the first seen hold no line break
	eof   bool
	err   error
	line  int // number of the last line taken from buf
	delim byte
	codec *codec
	// expect is the header's column count once it is read: a record with
	// a multi-line value must end with it.
	expect int

	pending []heldLine // lines to read again after a broken quote
	held    []heldLine // the lines of the current multi-line record
	data    []byte     // the current record's values, unquoted
	ends    []int      // end of each value in data
	out     []byte     // decoded values
	dends   []int      // end of each value in out
	rec     record
}

func newCSVReader(src io.Reader) *csvReader {
	return &csvReader{src: src, buf: make([]byte, 64<<10)}
}

// peek returns up to n buffered bytes from the start, reading as needed.
func (c *csvReader) peek(n int) []byte {
	for c.w-c.r < n && !c.eof && c.err == nil {
		c.fill()
	}
	return c.buf[c.r:min(c.w, c.r+n)]
}

// fill reads more bytes, moving the unread ones to the front and growing
// the buffer up to one line's bound.
func (c *csvReader) fill() {
	if c.r > 0 {
		c.w = copy(c.buf, c.buf[c.r:c.w])
		c.r = 0
	}
	if c.w == len(c.buf) {
		nb := make([]byte, min(2*len(c.buf), MaxRecordBytes+64<<10))
		copy(nb, c.buf[:c.w])
		c.buf = nb
	}
	for range 100 {
		n, err := c.src.Read(c.buf[c.w:])
		c.w += n
		if errors.Is(err, io.EOF) {
			c.eof = true
			return
		}
		if err != nil {
			c.err = err
			return
		}
		if n > 0 {
			return
		}
	}
	c.err = io.ErrNoProgress
}

// nextLine returns the next physical line without its line break, valid
// until the next call. Empty lines are returned too.
func (c *csvReader) nextLine() ([]byte, int, error) {
	if len(c.pending) > 0 {
		h := c.pending[0]
		c.pending = c.pending[1:]
		return h.b, h.line, nil
	}
	for {
		seg := c.buf[c.r+c.seen : c.w]
		i := bytes.IndexByte(seg, '\n')
		var j int
		if i < 0 {
			j = bytes.IndexByte(seg, '\r')
		} else {
			j = bytes.IndexByte(seg[:i], '\r')
		}
		if j >= 0 {
			i = j
		}
		if i >= 0 {
			end := c.r + c.seen + i
			if c.buf[end] == '\r' && end+1 == c.w && !c.eof && c.err == nil {
				// CR at the end of what is read: CR LF or a lone CR?
				c.seen = end - c.r
				c.fill()
				continue
			}
			line := c.buf[c.r:end]
			next := end + 1
			if c.buf[end] == '\r' && next < c.w && c.buf[next] == '\n' {
				next++
			}
			c.r, c.seen = next, 0
			c.line++
			if len(line) > MaxRecordBytes {
				return nil, 0, &FileError{Line: c.line, Problem: ProblemLineTooLong}
			}
			return line, c.line, nil
		}
		c.seen = c.w - c.r
		if c.seen > MaxRecordBytes {
			return nil, 0, &FileError{Line: c.line + 1, Problem: ProblemLineTooLong}
		}
		if c.err != nil {
			return nil, 0, fmt.Errorf("read line %d: %w", c.line+1, c.err)
		}
		if c.eof {
			if c.r == c.w {
				return nil, 0, io.EOF
			}
			line := c.buf[c.r:c.w]
			c.r, c.seen = c.w, 0
			c.line++
			return line, c.line, nil
		}
		c.fill()
	}
}

// read returns the next record; io.EOF at the end. A *FileError or a read
// error ends the file.
func (c *csvReader) read() (*record, error) {
	for {
		line, n, err := c.nextLine()
		if err != nil {
			return nil, err
		}
		if len(line) == 0 {
			continue // blank lines are skipped, as encoding/csv does
		}
		ok, err := c.parse(line, n)
		if err != nil {
			return nil, err
		}
		if !ok {
			// The quote opened on line n is never properly closed: report
			// that line and read the lines after it again as records.
			if len(c.held) > 1 { // else it failed on its first line
				c.pending = append(c.held[1:len(c.held):len(c.held)], c.pending...)
			}
			c.held = nil
			c.rec.fields = c.rec.fields[:0]
			c.rec.line, c.rec.endLine, c.rec.issue = n, n, ReasonQuote
			return &c.rec, nil
		}
		c.decode()
		return &c.rec, nil
	}
}

// parse splits one record starting with line (number n) into c.data and
// c.ends. ok is false if a quoted value spanning lines breaks the rules.
func (c *csvReader) parse(line []byte, n int) (ok bool, err error) {
	c.data, c.ends, c.held = c.data[:0], c.ends[:0], c.held[:0]
	c.rec.line, c.rec.endLine, c.rec.issue, c.rec.column = n, n, "", 0
	size, multi := len(line), false
	pos := 0
	endField := func(start int) {
		if len(c.data)-start > MaxFieldBytes && c.rec.issue == "" {
			c.rec.issue, c.rec.column = ReasonTooLong, len(c.ends)
		}
		c.ends = append(c.ends, len(c.data))
	}
	for {
		start := len(c.data)
		if pos >= len(line) || line[pos] != '"' {
			i := bytes.IndexByte(line[pos:], c.delim)
			if i < 0 {
				c.data = append(c.data, line[pos:]...)
				endField(start)
				break
			}
			c.data = append(c.data, line[pos:pos+i]...)
			endField(start)
			pos += i + 1
			continue
		}
		pos++ // the opening quote
		stray := false
		cont, delims := false, 0 // on a line after the value's first; delimiters in the value there
		for {
			i := bytes.IndexByte(line[pos:], '"')
			if cont {
				in := line[pos:]
				if i >= 0 {
					in = in[:i]
				}
				if delims += bytes.Count(in, []byte{c.delim}); c.swallowed(delims) {
					return false, nil
				}
			}
			if i < 0 {
				// The value goes on after the line break.
				if stray {
					return false, nil
				}
				c.data = append(c.data, line[pos:]...)
				c.data = append(c.data, '\n')
				if !multi {
					multi = true
					c.held = append(c.held, heldLine{bytes.Clone(line), n})
				}
				line, n, err = c.nextLine()
				if errors.Is(err, io.EOF) {
					return false, nil
				}
				if err != nil {
					return false, err
				}
				c.held = append(c.held, heldLine{bytes.Clone(line), n})
				size += len(line)
				if len(c.held) > MaxRecordLines || size > MaxRecordBytes {
					return false, nil
				}
				c.rec.endLine = n
				pos, cont, delims = 0, true, 0
				continue
			}
			c.data = append(c.data, line[pos:pos+i]...)
			pos += i + 1
			switch {
			case pos < len(line) && line[pos] == '"': // a doubled quote
				c.data = append(c.data, '"')
				pos++
				continue
			case pos == len(line):
				endField(start)
				return c.complete(multi), nil
			case line[pos] == c.delim:
				endField(start)
				pos++
			default: // a stray quote: a character, unless the value spans lines
				if multi {
					return false, nil
				}
				stray = true
				c.data = append(c.data, '"')
				continue
			}
			break
		}
	}
	return c.complete(multi), nil
}

// swallowed: a line inside a quoted value holds as many delimiters as a
// whole row (at least two), so it is most likely a row that a quote never
// closed has run into, not part of an address.
func (c *csvReader) swallowed(delims int) bool {
	return c.expect > 0 && delims >= max(c.expect-1, 2)
}

// complete checks a parsed record: one that spans lines must have the
// header's column count.
func (c *csvReader) complete(multi bool) bool {
	return !multi || c.expect == 0 || len(c.ends) == c.expect
}

// decode turns c.data into c.rec.fields, checking the encoding of the whole
// record once (ASCII-only records need nothing).
func (c *csvReader) decode() {
	ascii := true
	for _, b := range c.data {
		if b >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	fields := c.rec.fields[:0]
	if ascii || c.codec.utf8 {
		if !ascii && c.codec.check(c.data) != decodeOK {
			c.rec.issue, c.rec.column = ReasonEncoding, -1
		}
		s := string(c.data)
		prev := 0
		for _, e := range c.ends {
			fields = append(fields, s[prev:e])
			prev = e
		}
		c.rec.fields = fields
		return
	}
	if c.codec.check(c.data) == decodeMixed {
		c.rec.issue, c.rec.column = ReasonEncodingMixed, -1
	}
	out, ends := c.out[:0], c.dends[:0]
	prev := 0
	for _, e := range c.ends {
		var ok bool
		if out, ok = c.codec.decode(out, c.data[prev:e]); !ok && c.rec.issue == "" {
			c.rec.issue, c.rec.column = ReasonEncoding, len(ends)
		}
		ends = append(ends, len(out))
		prev = e
	}
	c.out, c.dends = out, ends
	s := string(out)
	prev = 0
	for _, e := range ends {
		fields = append(fields, s[prev:e])
		prev = e
	}
	c.rec.fields = fields
}
