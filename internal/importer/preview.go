package importer

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// Preview is the start of a file with a mapping applied, for the wizard.
type Preview struct {
	Kind      string       `json:"kind"`
	Encoding  string       `json:"encoding"`
	Delimiter string       `json:"delimiter"`
	Headers   []string     `json:"headers"`
	Mapping   Mapping      `json:"mapping"`
	Rows      []PreviewRow `json:"rows"`
	// MappingError is set (ErrMapping's text) when the mapping lacks the
	// customer number or name; the rows then show the raw values only.
	MappingError string `json:"mappingError"`
}

// PreviewRow is one row: raw values by column, normalized values by field,
// or the issue that would reject it.
type PreviewRow struct {
	Line   int               `json:"line"`
	Raw    []string          `json:"raw"`
	Values map[string]string `json:"values"`
	Issue  *Issue            `json:"issue"`
}

// PreviewFile reads the header and the first n rows of the file. The raw
// values are customer data: they are shown to the clerk doing the import and
// never logged.
func PreviewFile(path string, opts Options, n int) (Preview, error) {
	f, _, err := openSource(path, opts)
	if err != nil {
		return Preview{}, err
	}
	defer f.Close()
	in, err := openCSV(f, 0, opts.Encoding, opts.Delimiter)
	if err != nil {
		return Preview{}, err
	}
	headers, err := in.header()
	if err != nil {
		return Preview{}, err
	}
	kind, err := ParseKind(opts.Kind)
	if err != nil {
		return Preview{}, err
	}
	p := Preview{Kind: kind, Encoding: in.encoding, Delimiter: string(in.delimiter), Headers: headers, Mapping: opts.Mapping, Rows: []PreviewRow{}}
	if p.Mapping == nil {
		p.Mapping = AutoMapKind(kind, headers)
	}
	var attrs []attrColumn
	if kind == KindCustomers {
		if opts.Mapping == nil {
			autoMapAttributes(p.Mapping, headers, opts.Attributes)
		}
		attrs, err = attrColumns(p.Mapping, headers, opts.Attributes)
	}
	cols, mapErr := p.Mapping.columnsFor(kind, headers)
	if mapErr == nil {
		mapErr = err
	}
	if mapErr != nil {
		p.MappingError = mapErr.Error()
		cols = make([]string, len(headers))
	}
	clock := opts.Clock
	if clock == nil {
		clock = time.Now
	}
	norm := newKindNormalizer(kind, cols, headers, clock())
	if mapErr == nil {
		norm.attrs = attrs
	}
	for len(p.Rows) < n {
		rec, err := in.rd.read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return p, fmt.Errorf("preview: %w", err)
		}
		line := rec.line
		pr := PreviewRow{Line: line, Raw: append([]string(nil), rec.fields...), Values: map[string]string{}}
		switch issue := recordIssue(rec, headers); {
		case issue != nil:
			pr.Issue = issue
		case mapErr == nil:
			r, issue := norm.row(rec.fields)
			if issue != nil {
				issue.Line = line
				pr.Issue = issue
				break
			}
			for _, f := range norm.list {
				if norm.fields[f] {
					pr.Values[f] = r.values[fieldIndex[f]]
				}
			}
			if v := pr.Values[FieldTags]; v != "" {
				pr.Values[FieldTags] = strings.ReplaceAll(v, "\x1f", "、")
			}
			for i, a := range norm.attrs {
				pr.Values[AttrPrefix+a.def.Key] = r.attrs[i]
			}
		}
		p.Rows = append(p.Rows, pr)
	}
	return p, nil
}
