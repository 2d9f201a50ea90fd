package importer

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"io"
	"strings"

	"tsunagu/internal/customer"
)

// The input side of an import: the file opened, counted, hashed and split
// into records (csvread.go), the header read.

// input is the CSV stream of a file.
type input struct {
	rd        *csvReader
	counter   *countingReader
	sum       hash.Hash
	total     int64
	encoding  string
	delimiter rune
}

// openCSV wraps the file: bytes are counted (for progress) and hashed (for
// the history) as they are read, then split into records and decoded
// (csvread.go).
func openCSV(f io.Reader, size int64, enc string, delim rune) (*input, error) {
	enc, err := ParseEncoding(enc)
	if err != nil {
		return nil, err
	}
	in := &input{sum: sha256.New(), total: size}
	in.counter = &countingReader{r: io.TeeReader(f, in.sum)}
	rd := newCSVReader(in.counter)
	sample := rd.peek(64 << 10) // a short file: the whole file
	if rd.err != nil {
		return nil, fmt.Errorf("read import file: %w", rd.err)
	}
	if enc == EncodingAuto {
		enc = DetectEncoding(sample)
	}
	if enc == EncodingUTF8 && bytes.HasPrefix(sample, utf8BOM) {
		rd.r += len(utf8BOM)
	}
	in.encoding = enc
	rd.codec = newCodec(enc)
	if delim == 0 {
		delim = detectDelimiter(rd.peek(16 << 10))
	}
	if delim != ',' && delim != '\t' {
		return nil, fmt.Errorf("delimiter must be comma or tab, not %q", delim)
	}
	in.delimiter = delim
	rd.delim = byte(delim)
	in.rd = rd
	return in, nil
}

// detectDelimiter looks at the first line: tabs win if there are more tabs
// than commas.
func detectDelimiter(b []byte) rune {
	if i := bytes.IndexAny(b, "\r\n"); i >= 0 {
		b = b[:i]
	}
	if bytes.Count(b, []byte("\t")) > bytes.Count(b, []byte(",")) {
		return '\t'
	}
	return ','
}

// header reads the header record; from then on a record with a quoted
// value spanning lines must have the header's column count.
func (in *input) header() ([]string, error) {
	rec, err := in.rd.read()
	if errors.Is(err, io.EOF) {
		return nil, ErrEmptyFile
	}
	if err != nil {
		return nil, fmt.Errorf("read header: %w", err)
	}
	if rec.issue == ReasonQuote {
		return nil, &FileError{Line: rec.line, Problem: ProblemHeaderQuote}
	}
	h := make([]string, len(rec.fields))
	for i, v := range rec.fields {
		h[i] = strings.TrimSpace(customer.NormalizeText(v))
	}
	in.rd.expect = len(h)
	return h, nil
}

// recordIssue is the issue rejecting a whole record before its values are
// looked at, or nil.
func recordIssue(rec *record, headers []string) *Issue {
	switch {
	case rec.issue == ReasonQuote:
		return &Issue{Line: rec.line, Reason: ReasonQuote}
	case rec.issue == ReasonEncoding || rec.issue == ReasonEncodingMixed:
		is := &Issue{Line: rec.line, Reason: rec.issue}
		if rec.column >= 0 && rec.column < len(headers) {
			is.Column = headers[rec.column]
		}
		return is
	case len(rec.fields) != len(headers):
		return &Issue{Line: rec.line, EndLine: rec.endLine, Reason: ReasonColumns}
	case rec.issue == ReasonTooLong:
		return &Issue{Line: rec.line, Column: headers[rec.column], Reason: ReasonTooLong}
	}
	return nil
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}
