package customer

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"tsunagu/internal/audit"
	"tsunagu/internal/fielderr"
)

// Administration of custom attribute definitions and tags (permission
// settings in the facade). Every change is audited in its transaction.
const (
	ActionAttributeDelete = "customer.attribute_delete"
	ActionTagCreate       = "customer.tag_create"
	ActionTagDelete       = "customer.tag_delete"
)

// AttributeTypes lists the types a custom attribute may have.
var AttributeTypes = []string{"text", "number", "date", "boolean", "choice"}

// AttributeDefInfo is a definition with how many customers have a value.
type AttributeDefInfo struct {
	AttributeDef
	Customers int `json:"customers"`
}

// AttributeDefs lists the custom attribute definitions by label.
func (s *Service) AttributeDefs(ctx context.Context) ([]AttributeDefInfo, error) {
	rows, err := s.db.Reader().QueryContext(ctx, `SELECT d.key, d.label, d.type, d.choices,
		(SELECT count(*) FROM customer_attributes a WHERE a.attr_id = d.id) FROM attribute_defs d ORDER BY d.label, d.key`)
	if err != nil {
		return nil, fmt.Errorf("attribute definitions: %w", err)
	}
	defer rows.Close()
	out := []AttributeDefInfo{}
	for rows.Next() {
		var d AttributeDefInfo
		var choices string
		if err := rows.Scan(&d.Key, &d.Label, &d.Type, &choices, &d.Customers); err != nil {
			return nil, fmt.Errorf("attribute definitions: %w", err)
		}
		if err := json.Unmarshal([]byte(choices), &d.Choices); err != nil {
			return nil, fmt.Errorf("attribute %s choices: %w", d.Key, err)
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// CleanAttributeDef normalizes and checks a definition before it is stored:
// a key of ASCII letters, digits and underscores, a label, a known type,
// and for a choice at least one distinct non-empty choice.
func CleanAttributeDef(d AttributeDef) (AttributeDef, error) {
	// A control character is its own fault (ErrControl); it names its field.
	for _, f := range [...]struct{ field, v string }{{"key", d.Key}, {"label", d.Label}} {
		if err := CheckText(f.v); err != nil {
			return d, fielderr.New(fmt.Errorf("attribute %s: %w", f.field, err), f.field, fielderr.Format)
		}
	}
	for i, c := range d.Choices {
		if err := CheckText(c); err != nil {
			return d, fielderr.New(fmt.Errorf("attribute choice: %w", err), "choices."+strconv.Itoa(i), fielderr.Format)
		}
	}
	d.Key = strings.ToLower(NormalizeKey(d.Key))
	d.Label = NormalizeText(d.Label)
	// Every wrong field at once (JSON names of AttributeDef), so the
	// administrator's form marks them all.
	var l fielderr.List
	switch {
	case d.Key == "":
		l.Add("key", fielderr.Required)
	case strings.IndexFunc(d.Key, func(r rune) bool {
		return (r < 'a' || r > 'z') && (r < '0' || r > '9') && r != '_'
	}) >= 0:
		l.Add("key", fielderr.Format)
	}
	if d.Label == "" {
		l.Add("label", fielderr.Required)
	}
	if !slices.Contains(AttributeTypes, d.Type) {
		l.Add("type", fielderr.Choose)
	}
	var choices []string
	for _, c := range d.Choices {
		if c = NormalizeText(c); c != "" && !slices.Contains(choices, c) {
			choices = append(choices, c)
		}
	}
	d.Choices = choices
	if d.Type != "choice" {
		d.Choices = nil
	} else if len(d.Choices) == 0 {
		l.Add("choices", fielderr.Required)
	}
	if err := l.Err(ErrInvalid); err != nil {
		return d, fmt.Errorf("attribute %q: %w", d.Key, err)
	}
	return d, nil
}

// DeleteAttribute removes a definition and every customer's value of it.
func (s *Service) DeleteAttribute(ctx context.Context, actor, key string) error {
	return s.db.Write(ctx, func(tx *sql.Tx) error {
		var id int64
		err := tx.QueryRowContext(ctx, `SELECT id FROM attribute_defs WHERE key = ?`, key).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("attribute %s: %w", key, ErrNotFound)
		}
		if err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM customer_attributes WHERE attr_id = ?`, id)
		if err != nil {
			return err
		}
		n, _ := res.RowsAffected()
		if _, err := tx.ExecContext(ctx, `DELETE FROM attribute_defs WHERE id = ?`, id); err != nil {
			return err
		}
		_, err = audit.Record(ctx, tx, audit.Entry{At: s.now().UnixMilli(), Actor: actor, Action: ActionAttributeDelete,
			Target: "attribute:" + key, Detail: map[string]string{"values": fmt.Sprint(n)}})
		return err
	})
}

// TagInfo is a tag with how many customers carry it.
type TagInfo struct {
	Name      string `json:"name"`
	Customers int    `json:"customers"`
}

// TagList lists all tags with their use.
func (s *Service) TagList(ctx context.Context) ([]TagInfo, error) {
	rows, err := s.db.Reader().QueryContext(ctx, `SELECT t.name, (SELECT count(*) FROM customer_tags ct WHERE ct.tag_id = t.id) FROM tags t ORDER BY t.name`)
	if err != nil {
		return nil, fmt.Errorf("tags: %w", err)
	}
	defer rows.Close()
	out := []TagInfo{}
	for rows.Next() {
		var t TagInfo
		if err := rows.Scan(&t.Name, &t.Customers); err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// maxTagName is the longest tag name, in characters.
const maxTagName = 50

// CreateTag adds a tag (so staff pick it from a list); an existing name is
// ErrInvalid.
func (s *Service) CreateTag(ctx context.Context, actor, name string) error {
	if err := CheckText(name); err != nil {
		return fielderr.New(fmt.Errorf("tag: %w", err), "name", fielderr.Format)
	}
	name = NormalizeText(name)
	if name == "" {
		return fielderr.New(fmt.Errorf("tag: %w", ErrInvalid), "name", fielderr.Required)
	}
	if len([]rune(name)) > maxTagName {
		return fielderr.NewMax(fmt.Errorf("tag: %w", ErrInvalid), "name", fielderr.TooLong, maxTagName)
	}
	return s.db.Write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO tags (name) VALUES (?) ON CONFLICT (name) DO NOTHING`, name)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fielderr.New(fmt.Errorf("tag exists: %w", ErrInvalid), "name", fielderr.Taken)
		}
		_, err = audit.Record(ctx, tx, audit.Entry{At: s.now().UnixMilli(), Actor: actor, Action: ActionTagCreate, Target: "tag:" + name})
		return err
	})
}

// DeleteTag removes a tag from every customer and the list.
func (s *Service) DeleteTag(ctx context.Context, actor, name string) error {
	return s.db.Write(ctx, func(tx *sql.Tx) error {
		var id int64
		err := tx.QueryRowContext(ctx, `SELECT id FROM tags WHERE name = ?`, name).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("tag %s: %w", name, ErrNotFound)
		}
		if err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM customer_tags WHERE tag_id = ?`, id)
		if err != nil {
			return err
		}
		n, _ := res.RowsAffected()
		if _, err := tx.ExecContext(ctx, `DELETE FROM tags WHERE id = ?`, id); err != nil {
			return err
		}
		_, err = audit.Record(ctx, tx, audit.Entry{At: s.now().UnixMilli(), Actor: actor, Action: ActionTagDelete,
			Target: "tag:" + name, Detail: map[string]string{"customers": fmt.Sprint(n)}})
		return err
	})
}
