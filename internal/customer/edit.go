package customer

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/ncruces/go-sqlite3"

	"tsunagu/internal/audit"
	"tsunagu/internal/fielderr"
)

// SetConsent records a customer's decision for a channel; source says who or
// what recorded it (e.g. "staff:<login>", "line"). actor is audited.
func (s *Service) SetConsent(ctx context.Context, actor string, customerID int64, channel string, granted bool, source string) error {
	return s.setConsent(ctx, actor, customerID, anyVersion, channel, granted, source)
}

func (s *Service) setConsent(ctx context.Context, actor string, customerID, version int64, channel string, granted bool, source string) error {
	return s.db.Write(ctx, func(tx *sql.Tx) error {
		if err := checkVersion(ctx, tx, customerID, version); err != nil {
			return err
		}
		return s.SetConsentTx(ctx, tx, actor, customerID, channel, granted, source)
	})
}

// SetConsentTx is SetConsent inside tx, for a change that records a consent
// together with something else (linking a LINE friend), audited in the
// same transaction.
func (s *Service) SetConsentTx(ctx context.Context, tx *sql.Tx, actor string, customerID int64, channel string, granted bool, source string) error {
	col, ok := ConsentColumn(channel)
	if !ok {
		return fmt.Errorf("consent channel %q: %w", channel, ErrInvalid)
	}
	if err := s.record(ctx, tx, actor, ActionConsent, customerID, map[string]string{
		"channel": channel, "granted": strconv.FormatBool(granted), "source": source}); err != nil {
		return err
	}
	res, err := tx.ExecContext(ctx, `UPDATE customers SET `+col+` = ?, `+col+`_source = ?, `+col+`_at = ? WHERE id = ?`,
		granted, source, s.now().UnixMilli(), customerID)
	if err != nil {
		return fmt.Errorf("consent of customer %d: %w", customerID, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n == 0 {
		return fmt.Errorf("customer %d: %w", customerID, ErrNotFound)
	}
	return nil
}

// Consented reports whether the customer has granted consent for channel.
// Marketing sends must check it: no record means no consent.
func (s *Service) Consented(ctx context.Context, customerID int64, channel string) (bool, error) {
	col, ok := ConsentColumn(channel)
	if !ok {
		return false, nil // no such channel, so no record
	}
	var granted sql.NullBool
	err := s.db.Reader().QueryRowContext(ctx, `SELECT `+col+` FROM customers WHERE id = ?`, customerID).Scan(&granted)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("consent of customer %d: %w", customerID, err)
	}
	return granted.Valid && granted.Bool, nil
}

// LinkLine links a customer to a LINE user the inbox knows. Each side may be
// linked once; a second link fails with ErrAlreadyLinked. actor is
// audited (the LINE user ID is not: it identifies a person).
func (s *Service) LinkLine(ctx context.Context, actor string, customerID int64, lineUserID, method, by string) error {
	return s.db.Write(ctx, func(tx *sql.Tx) error {
		if err := s.record(ctx, tx, actor, ActionLinkLine, customerID, map[string]string{"method": method}); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO customer_line_links (customer_id, line_user_id, linked_at, method, linked_by) VALUES (?, ?, ?, ?, ?)`,
			customerID, lineUserID, s.now().UnixMilli(), method, by)
		if errors.Is(err, sqlite3.CONSTRAINT_PRIMARYKEY) || errors.Is(err, sqlite3.CONSTRAINT_UNIQUE) {
			return fmt.Errorf("link customer %d: %w", customerID, ErrAlreadyLinked)
		}
		if errors.Is(err, sqlite3.CONSTRAINT_CHECK) {
			return fmt.Errorf("link method %q: %w", method, ErrInvalid)
		}
		return notFound(err, customerID)
	})
}

// UnlinkLine removes the customer's LINE link, if any (audited only if
// there was one).
func (s *Service) UnlinkLine(ctx context.Context, actor string, customerID int64) error {
	return s.db.Write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM customer_line_links WHERE customer_id = ?`, customerID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		return s.record(ctx, tx, actor, ActionUnlinkLine, customerID, nil)
	})
}

// CustomerForLineUser returns the ID of the customer linked to a LINE user.
func (s *Service) CustomerForLineUser(ctx context.Context, lineUserID string) (int64, error) {
	var id int64
	err := s.db.Reader().QueryRowContext(ctx, `SELECT customer_id FROM customer_line_links WHERE line_user_id = ?`, lineUserID).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, ErrNotFound
	}
	return id, err
}

// AddProduct records a contract of a customer.
func (s *Service) AddProduct(ctx context.Context, actor string, customerID int64, p Product) (int64, error) {
	if strings.TrimSpace(p.Type) == "" {
		return 0, fmt.Errorf("product type: %w", ErrInvalid)
	}
	for _, v := range []string{p.Type, p.ProductCode, p.AccountNo, p.OpenedOn, p.MaturesOn, p.Status, p.AmountBand} {
		if err := CheckText(v); err != nil {
			return 0, fmt.Errorf("product: %w", err)
		}
	}
	if p.Status == "" {
		p.Status = "active"
	}
	for _, d := range []*string{&p.OpenedOn, &p.MaturesOn} {
		v, err := ParseDate(*d)
		if err != nil {
			return 0, fmt.Errorf("product date: %w", err)
		}
		*d = v
	}
	var id int64
	err := s.db.Write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO products (customer_id, type, product_code, account_no, opened_on, matures_on, status, amount_band, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			customerID, p.Type, p.ProductCode, p.AccountNo, p.OpenedOn, p.MaturesOn, p.Status, p.AmountBand, s.now().UnixMilli())
		if err != nil {
			return notFound(err, customerID)
		}
		if id, err = res.LastInsertId(); err != nil {
			return err
		}
		return s.record(ctx, tx, actor, ActionProductAdd, customerID, map[string]string{"product": strconv.FormatInt(id, 10), "type": p.Type})
	})
	return id, err
}

// AttributeDef is an administrator-defined custom attribute.
type AttributeDef struct {
	Key     string   `json:"key"`
	Label   string   `json:"label"`
	Type    string   `json:"type"` // text, number, date, boolean, choice
	Choices []string `json:"choices"`
}

// DefineAttribute creates a custom attribute.
func (s *Service) DefineAttribute(ctx context.Context, actor string, d AttributeDef) error {
	d, err := CleanAttributeDef(d)
	if err != nil {
		return err
	}
	choices, _ := json.Marshal(append([]string{}, d.Choices...))
	return s.db.Write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO attribute_defs (key, label, type, choices, created_at) VALUES (?, ?, ?, ?, ?)`,
			d.Key, d.Label, d.Type, string(choices), s.now().UnixMilli())
		if errors.Is(err, sqlite3.CONSTRAINT) {
			return fielderr.New(fmt.Errorf("attribute %s: %w", d.Key, ErrInvalid), "key", fielderr.Taken)
		}
		if err != nil {
			return err
		}
		_, err = audit.Record(ctx, tx, audit.Entry{At: s.now().UnixMilli(), Actor: actor, Action: ActionAttributeDefine,
			Target: "attribute:" + d.Key, Detail: map[string]string{"type": d.Type}})
		return err
	})
}

// CheckAttribute returns the canonical text of value for the attribute's
// type, or an error wrapping ErrInvalid.
func (d AttributeDef) CheckAttribute(value string) (string, error) {
	if err := CheckText(value); err != nil {
		return "", fmt.Errorf("attribute %s: %w", d.Key, err)
	}
	value = NormalizeText(value)
	switch d.Type {
	case "text":
		return value, nil
	case "number":
		f, err := strconv.ParseFloat(strings.ReplaceAll(NormalizeKey(value), ",", ""), 64)
		if err != nil {
			return "", fmt.Errorf("attribute %s: %w: not a number", d.Key, ErrInvalid)
		}
		return strconv.FormatFloat(f, 'f', -1, 64), nil
	case "date":
		v, err := ParseDate(value)
		if err != nil || v == "" {
			return "", fmt.Errorf("attribute %s: %w: not a date", d.Key, ErrInvalid)
		}
		return v, nil
	case "boolean":
		switch strings.ToLower(NormalizeKey(value)) {
		case "1", "true", "yes", "y", "はい", "有", "あり", "○", "可":
			return "true", nil
		case "0", "false", "no", "n", "いいえ", "無", "なし", "×", "否":
			return "false", nil
		}
		return "", fmt.Errorf("attribute %s: %w: not a yes/no", d.Key, ErrInvalid)
	case "choice":
		// The defined choice is stored; the value matches it up to width
		// and the wave dash / fullwidth tilde that CP932 files swap.
		for _, c := range d.Choices {
			if choiceKey(c) == choiceKey(value) {
				return c, nil
			}
		}
		return "", fmt.Errorf("attribute %s: %w: not one of the choices", d.Key, ErrInvalid)
	}
	return "", fmt.Errorf("attribute %s: %w: unknown type %q", d.Key, ErrInvalid, d.Type)
}

// SetAttribute sets a custom attribute, checked against its type. The
// audit entry names the attribute, not the value.
func (s *Service) SetAttribute(ctx context.Context, actor string, customerID int64, key, value string) error {
	return s.setAttribute(ctx, actor, customerID, anyVersion, key, value)
}

func (s *Service) setAttribute(ctx context.Context, actor string, customerID, version int64, key, value string) error {
	return s.db.Write(ctx, func(tx *sql.Tx) error {
		if err := checkVersion(ctx, tx, customerID, version); err != nil {
			return err
		}
		var d AttributeDef
		var id int64
		var choices string
		err := tx.QueryRowContext(ctx, `SELECT id, key, label, type, choices FROM attribute_defs WHERE key = ?`, key).Scan(&id, &d.Key, &d.Label, &d.Type, &choices)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("attribute %s: %w", key, ErrNotFound)
		}
		if err != nil {
			return err
		}
		if err := json.Unmarshal([]byte(choices), &d.Choices); err != nil {
			return fmt.Errorf("attribute %s choices: %w", key, err)
		}
		v, err := d.CheckAttribute(value)
		if err != nil {
			return err
		}
		if err := s.record(ctx, tx, actor, ActionAttributeSet, customerID, map[string]string{"attribute": d.Key}); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO customer_attributes (customer_id, attr_id, value) VALUES (?, ?, ?)
			ON CONFLICT (customer_id, attr_id) DO UPDATE SET value = excluded.value`, customerID, id, v)
		return notFound(err, customerID)
	})
}

// AddTag tags a customer, creating the tag if needed.
func (s *Service) AddTag(ctx context.Context, actor string, customerID int64, tag string) error {
	return s.addTag(ctx, actor, customerID, anyVersion, tag)
}

func (s *Service) addTag(ctx context.Context, actor string, customerID, version int64, tag string) error {
	if err := CheckText(tag); err != nil {
		return fmt.Errorf("tag: %w", err)
	}
	tag = NormalizeText(tag)
	if tag == "" {
		return fmt.Errorf("tag: %w", ErrInvalid)
	}
	return s.db.Write(ctx, func(tx *sql.Tx) error {
		if err := checkVersion(ctx, tx, customerID, version); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO tags (name) VALUES (?) ON CONFLICT (name) DO NOTHING`, tag); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO customer_tags (customer_id, tag_id) SELECT ?, id FROM tags WHERE name = ? ON CONFLICT DO NOTHING`, customerID, tag)
		if err != nil {
			return notFound(err, customerID)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			// Already tagged; still fail for a missing customer.
			return s.exists(ctx, tx, customerID)
		}
		return s.record(ctx, tx, actor, ActionTagAdd, customerID, map[string]string{"tag": tag})
	})
}

// RemoveTag removes a tag from a customer.
func (s *Service) RemoveTag(ctx context.Context, actor string, customerID int64, tag string) error {
	return s.removeTag(ctx, actor, customerID, anyVersion, tag)
}

func (s *Service) removeTag(ctx context.Context, actor string, customerID, version int64, tag string) error {
	return s.db.Write(ctx, func(tx *sql.Tx) error {
		if err := checkVersion(ctx, tx, customerID, version); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM customer_tags WHERE customer_id = ? AND tag_id = (SELECT id FROM tags WHERE name = ?)`, customerID, tag)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		return s.record(ctx, tx, actor, ActionTagRemove, customerID, map[string]string{"tag": tag})
	})
}

// exists fails with ErrNotFound if there is no customer customerID.
func (s *Service) exists(ctx context.Context, tx *sql.Tx, customerID int64) error {
	var one int
	err := tx.QueryRowContext(ctx, `SELECT 1 FROM customers WHERE id = ?`, customerID).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("customer %d: %w", customerID, ErrNotFound)
	}
	return err
}

// notFound turns a foreign-key failure on customer_id into ErrNotFound.
func notFound(err error, customerID int64) error {
	if errors.Is(err, sqlite3.CONSTRAINT_FOREIGNKEY) {
		return fmt.Errorf("customer %d: %w", customerID, ErrNotFound)
	}
	return err
}

// choiceKey folds a choice for comparison: width, and 〜 (WAVE DASH), ～
// (FULLWIDTH TILDE) and the minus signs that Japanese encodings swap.
func choiceKey(s string) string {
	return choiceFold.Replace(NormalizeKey(s))
}

var choiceFold = strings.NewReplacer("〜", "~", "～", "~", "−", "-", "－", "-", "‐", "-")
