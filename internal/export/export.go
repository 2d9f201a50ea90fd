// Package export writes the customer list as CSV for Excel and for other
// systems: UTF-8 with a BOM (Excel detects it) or Shift_JIS (CP932, for
// older Windows tools). Values a spreadsheet would run as a formula are
// neutralized. The headers are the Japanese names the importer maps
// automatically, so an export imports back unchanged.
package export

import (
	"context"
	"database/sql"
	"encoding/csv"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding/japanese"
	"golang.org/x/text/transform"

	"tsunagu/internal/audit"
	"tsunagu/internal/store"
)

// Encodings of an export.
const (
	UTF8BOM = "utf-8-bom"
	SJIS    = "sjis"
)

// Replacement stands in for a character Shift_JIS cannot hold (e.g. 𠮷):
// 〓 (geta) is the customary mark in Japanese systems.
const Replacement = "〓"

// Result says what was written.
type Result struct {
	Path     string `json:"path"`
	Rows     int    `json:"rows"`
	Replaced int    `json:"replaced"` // characters replaced by 〓 in a Shift_JIS export
	Encoding string `json:"encoding"`
}

// Header of the customer export.
var Header = []string{"顧客番号", "氏名", "フリガナ", "生年月日", "性別", "郵便番号", "住所", "店番", "担当者", "状態",
	"電話番号", "携帯電話", "メールアドレス", "LINE連携", "LINE同意", "メール配信同意", "SMS同意", "DM可否", "タグ"}

// The imported contacts are columns of customers (migration 0007), the
// ones entered by hand follow them. Consents are columns too (0015):
// NULL (no record) is exported as -1.
const query = `SELECT c.customer_no, c.name, c.name_kana, c.birth_date, c.gender, c.postal_code, c.address, c.branch, c.staff_in_charge, c.status,
	trim(c.phone || ' ' || coalesce((SELECT group_concat(value, ' ') FROM contact_points p WHERE p.customer_id = c.id AND p.kind = 'phone'), '')),
	trim(c.mobile || ' ' || coalesce((SELECT group_concat(value, ' ') FROM contact_points p WHERE p.customer_id = c.id AND p.kind = 'mobile'), '')),
	trim(c.email || ' ' || coalesce((SELECT group_concat(value, ' ') FROM contact_points p WHERE p.customer_id = c.id AND p.kind = 'email'), '')),
	EXISTS (SELECT 1 FROM customer_line_links l WHERE l.customer_id = c.id),
	coalesce(c.consent_line, -1),
	coalesce(c.consent_email, -1),
	coalesce(c.consent_sms, -1),
	coalesce(c.consent_postal, -1),
	coalesce((SELECT group_concat(name, ';') FROM (SELECT t.name FROM customer_tags ct JOIN tags t ON t.id = ct.tag_id WHERE ct.customer_id = c.id ORDER BY t.name)), '')
	FROM customers c ORDER BY c.customer_no`

// Customers writes every customer to w.
func Customers(ctx context.Context, db *store.DB, w io.Writer, encoding string) (Result, error) {
	res := Result{Encoding: encoding}
	var enc func(string) string
	switch encoding {
	case UTF8BOM, "":
		res.Encoding = UTF8BOM
		if _, err := w.Write([]byte{0xEF, 0xBB, 0xBF}); err != nil {
			return res, err
		}
		enc = func(s string) string { return s }
	case SJIS:
		enc = func(s string) string {
			b, n := toSJIS(s)
			res.Replaced += n
			return b
		}
	default:
		return res, fmt.Errorf("export: unknown encoding %q (utf-8-bom, sjis)", encoding)
	}
	cw := csv.NewWriter(w)
	cw.UseCRLF = true // Excel and Windows tools
	out := make([]string, len(Header))
	for i, h := range Header {
		out[i] = enc(h)
	}
	if err := cw.Write(out); err != nil {
		return res, err
	}
	rows, err := db.Reader().QueryContext(ctx, query)
	if err != nil {
		return res, fmt.Errorf("export customers: %w", err)
	}
	defer rows.Close()
	vals := make([]string, 19)
	var linked bool
	var consents [4]int
	for rows.Next() {
		err := rows.Scan(&vals[0], &vals[1], &vals[2], &vals[3], &vals[4], &vals[5], &vals[6], &vals[7], &vals[8], &vals[9],
			&vals[10], &vals[11], &vals[12], &linked, &consents[0], &consents[1], &consents[2], &consents[3], &vals[18])
		if err != nil {
			return res, fmt.Errorf("export customers: %w", err)
		}
		vals[4] = genderText[vals[4]]
		vals[9] = statusText[vals[9]]
		vals[13] = map[bool]string{true: "1", false: "0"}[linked]
		for i, c := range consents {
			vals[14+i] = map[int]string{1: "1", 0: "0", -1: ""}[c]
		}
		for i, v := range vals {
			out[i] = enc(Neutralize(v))
		}
		if err := cw.Write(out); err != nil {
			return res, err
		}
		res.Rows++
		if res.Rows%1000 == 0 {
			if err := ctx.Err(); err != nil {
				return res, err
			}
		}
	}
	if err := rows.Err(); err != nil {
		return res, fmt.Errorf("export customers: %w", err)
	}
	cw.Flush()
	return res, cw.Error()
}

// ActionExport is the audit action of a customer export.
const ActionExport = "customer.export"

// ToFile writes the export to path through a temporary file in the same
// folder (WriteFile), so a failed or cancelled export never leaves a
// partial file where a script expects a complete one. The file is readable
// by its owner only: it holds customer data unencrypted.
func ToFile(ctx context.Context, db *store.DB, path, encoding, actor string) (Result, error) {
	res, err := To(ctx, db, filepath.Base(path), encoding, actor, func(write func(io.Writer) (int, error)) (int, error) {
		return WriteFile(path, write)
	})
	if err != nil {
		return Result{}, err
	}
	res.Path = path
	return res, nil
}

// Save writes a file's whole content with write (which returns the rows
// it wrote): WriteFile for a file on this PC, or memory for a seat's file
// that its primary makes (issue 18).
type Save func(write func(io.Writer) (int, error)) (int, error)

// To writes the export through save; name is the file's name for the
// audit trail.
//
// An export is a read, so it has no transaction of its own to audit in:
// the entry (actor, row count, encoding, file name) is written first, in a
// short transaction, and nothing is written if that fails.
func To(ctx context.Context, db *store.DB, name, encoding, actor string, save Save) (Result, error) {
	switch encoding {
	case "":
		encoding = UTF8BOM
	case UTF8BOM, SJIS:
	default:
		return Result{}, fmt.Errorf("export: unknown encoding %q (utf-8-bom, sjis)", encoding)
	}
	if err := db.Write(ctx, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM customers`).Scan(&n); err != nil {
			return err
		}
		_, err := audit.Record(ctx, tx, audit.Entry{Actor: actor, Action: ActionExport,
			Detail: map[string]string{"rows": strconv.Itoa(n), "encoding": encoding, "file": name}})
		return err
	}); err != nil {
		return Result{}, fmt.Errorf("export: audit: %w", err)
	}
	var res Result
	_, err := save(func(w io.Writer) (int, error) {
		var err error
		res, err = Customers(ctx, db, w, encoding)
		return res.Rows, err
	})
	if err != nil {
		return Result{}, fmt.Errorf("export to %s: %w", name, err)
	}
	return res, nil
}

var genderText = map[string]string{"": "", "male": "男性", "female": "女性", "other": "その他"}
var statusText = map[string]string{"active": "有効", "inactive": "無効"}

// Neutralize defuses CSV injection: a value a spreadsheet would take as a
// formula (starting with = + - @, tab or CR) gets a leading apostrophe,
// which Excel shows as text and hides. So does a value that already starts
// with apostrophes followed by one of those, so that Unneutralize can take
// exactly one apostrophe off and every value comes back as it was.
func Neutralize(v string) string {
	if guarded(v, false) {
		return "'" + v
	}
	return v
}

// Unneutralize is the importer's inverse of Neutralize: a value that
// starts with an apostrophe followed by (more apostrophes and) = + - @, tab
// or CR loses that one apostrophe. An apostrophe before anything else is
// data and stays. LF counts as CR here, because the importer reads a line
// break inside a quoted value as LF.
func Unneutralize(v string) string {
	if len(v) > 1 && v[0] == '\'' && guarded(v[1:], true) {
		return v[1:]
	}
	return v
}

// guarded: v starts, after any apostrophes, with a formula trigger.
func guarded(v string, lf bool) bool {
	i := 0
	for i < len(v) && v[i] == '\'' {
		i++
	}
	if i == len(v) {
		return false
	}
	switch v[i] {
	case '=', '+', '-', '@', '\t', '\r':
		return true
	case '\n':
		return lf
	}
	return false
}

// toSJIS encodes s in CP932, replacing characters it cannot hold.
// csv.Writer then sees the encoded bytes as a Go string: its quoting only
// looks at ASCII bytes, and CP932 trail bytes are never '"', ',' or
// newlines (they are 0x40 and above), so the quoting stays right.
func toSJIS(s string) (string, int) {
	if b, _, err := transform.String(japanese.ShiftJIS.NewEncoder(), s); err == nil {
		return b, 0
	}
	var sb strings.Builder
	replaced := 0
	for _, r := range s {
		b, _, err := transform.String(japanese.ShiftJIS.NewEncoder(), string(r))
		if err != nil || r == utf8.RuneError {
			b, _, _ = transform.String(japanese.ShiftJIS.NewEncoder(), Replacement)
			replaced++
		}
		sb.WriteString(b)
	}
	return sb.String(), replaced
}
