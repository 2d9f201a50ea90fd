package importer

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/ncruces/go-sqlite3"

	"tsunagu/internal/customer"
	"tsunagu/internal/store"
)

// A customers file may carry tags (one column, several tags separated by
// ; 、 | or ／) and custom attributes (a column mapped to "attr:<key>",
// checked against the attribute's type). Both are written only for new or
// changed customers; an import adds tags and sets attribute values, it never
// removes a tag or clears a value (staff may have set them by hand).

// FieldTags is the column of tags.
const FieldTags = "tags"

// AttrPrefix marks a mapping target that is a custom attribute: attr:<key>.
const AttrPrefix = "attr:"

// AttributeDefs reads the custom attribute definitions, for the mapping.
func AttributeDefs(ctx context.Context, db *store.DB) ([]customer.AttributeDef, error) {
	rows, err := db.Reader().QueryContext(ctx, `SELECT key, label, type, choices FROM attribute_defs ORDER BY label, key`)
	if err != nil {
		return nil, fmt.Errorf("attribute definitions: %w", err)
	}
	defer rows.Close()
	var out []customer.AttributeDef
	for rows.Next() {
		var d customer.AttributeDef
		var choices string
		if err := rows.Scan(&d.Key, &d.Label, &d.Type, &choices); err != nil {
			return nil, err
		}
		if err := json.Unmarshal([]byte(choices), &d.Choices); err != nil {
			return nil, fmt.Errorf("attribute %s choices: %w", d.Key, err)
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// autoMapAttributes maps still unmapped headers named like an attribute's
// label or key.
func autoMapAttributes(m Mapping, headers []string, defs []customer.AttributeDef) {
	for _, h := range headers {
		if m[h] != "" {
			continue
		}
		for _, d := range defs {
			if f := foldHeader(h); f == foldHeader(d.Label) || f == foldHeader(d.Key) {
				if !slices.Contains(valuesOf(m), AttrPrefix+d.Key) {
					m[h] = AttrPrefix + d.Key
				}
				break
			}
		}
	}
}

func valuesOf(m Mapping) []string {
	out := make([]string, 0, len(m))
	for _, v := range m {
		out = append(out, v)
	}
	return out
}

// splitTags reads a tags cell: tags separated by ; 、 | ／ or a full-width
// comma, normalized, without duplicates; joined by \x1f for the row.
func splitTags(raw string) string {
	var out []string
	for _, t := range strings.FieldsFunc(raw, func(r rune) bool {
		switch r {
		case ';', '；', '、', '|', '｜', '／', '，':
			return true
		}
		return false
	}) {
		if t = customer.NormalizeText(t); t != "" && !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	return strings.Join(out, "\x1f")
}

// tagSet is splitTags' value in sorted order: tags are a set, so the same
// tags in another order (the export sorts them) hash the same.
func tagSet(v string) string {
	if !strings.Contains(v, "\x1f") {
		return v
	}
	tags := strings.Split(v, "\x1f")
	slices.Sort(tags)
	return strings.Join(tags, "\x1f")
}

// extras are the statements for tags and attributes, prepared only when the
// file maps them.
type extras struct {
	tagInsert, tagLink, attrSet *sqlite3.Stmt
	attrIDs                     map[string]int64
}

func (r *run) prepareExtras(c *sqlite3.Conn) error {
	var err error
	if r.norm.fields[FieldTags] {
		if r.ex.tagInsert, _, err = c.Prepare(`INSERT INTO tags (name) VALUES (?) ON CONFLICT (name) DO NOTHING`); err != nil {
			return err
		}
		if r.ex.tagLink, _, err = c.Prepare(`INSERT INTO customer_tags (customer_id, tag_id) SELECT ?, id FROM tags WHERE name = ? ON CONFLICT DO NOTHING`); err != nil {
			return err
		}
	}
	if len(r.norm.attrs) == 0 {
		return nil
	}
	r.ex.attrIDs = map[string]int64{}
	stmt, _, err := c.Prepare(`SELECT id, key FROM attribute_defs`)
	if err != nil {
		return err
	}
	for stmt.Step() {
		r.ex.attrIDs[stmt.ColumnText(1)] = stmt.ColumnInt64(0)
	}
	if err := stmt.Close(); err != nil {
		return err
	}
	r.ex.attrSet, _, err = c.Prepare(`INSERT INTO customer_attributes (customer_id, attr_id, value) VALUES (?, ?, ?)
		ON CONFLICT (customer_id, attr_id) DO UPDATE SET value = excluded.value`)
	return err
}

func (r *run) closeExtras() {
	for _, s := range []*sqlite3.Stmt{r.ex.tagInsert, r.ex.tagLink, r.ex.attrSet} {
		if s != nil {
			s.Close()
		}
	}
}

// writeExtras adds the row's tags and sets its attribute values.
func (r *run) writeExtras(id int64, row *row) error {
	if tags := row.values[fieldIndex[FieldTags]]; tags != "" {
		for _, t := range strings.Split(tags, "\x1f") {
			if err := execStmt(r.ex.tagInsert, t); err != nil {
				return err
			}
			if err := execStmt(r.ex.tagLink, id, t); err != nil {
				return err
			}
		}
	}
	for i, a := range r.norm.attrs {
		if v := row.attrs[i]; v != "" {
			if err := execStmt(r.ex.attrSet, id, r.ex.attrIDs[a.def.Key], v); err != nil {
				return err
			}
		}
	}
	return nil
}

// attrColumn is a column mapped to a custom attribute.
type attrColumn struct {
	col int
	def customer.AttributeDef
}

// attrColumns resolves the attr:<key> targets of a mapping.
func attrColumns(m Mapping, headers []string, defs []customer.AttributeDef) ([]attrColumn, error) {
	var out []attrColumn
	for i, h := range headers {
		key, ok := strings.CutPrefix(m[h], AttrPrefix)
		if !ok {
			continue
		}
		j := slices.IndexFunc(defs, func(d customer.AttributeDef) bool { return d.Key == key })
		if j < 0 {
			return nil, fmt.Errorf("%w: no custom attribute %q (column %q)", ErrMapping, key, h)
		}
		if slices.ContainsFunc(out, func(a attrColumn) bool { return a.def.Key == key }) {
			return nil, fmt.Errorf("%w: attribute %q is mapped twice", ErrMapping, key)
		}
		out = append(out, attrColumn{col: i, def: defs[j]})
	}
	return out, nil
}
