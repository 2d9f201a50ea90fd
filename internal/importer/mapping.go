package importer

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"tsunagu/internal/customer"
	"tsunagu/internal/store"
)

// Fields a column can be mapped to. An unmapped column ("") is ignored.
const (
	FieldCustomerNo    = "customer_no"
	FieldName          = "name"
	FieldNameKana      = "name_kana"
	FieldBirthDate     = "birth_date"
	FieldGender        = "gender"
	FieldPhone         = "phone"
	FieldMobile        = "mobile"
	FieldEmail         = "email"
	FieldPostalCode    = "postal_code"
	FieldAddress       = "address" // several columns (住所1, 住所2) are joined
	FieldBranch        = "branch"
	FieldStaffInCharge = "staff_in_charge"
	FieldConsentLINE   = "consent_line"
	FieldConsentEmail  = "consent_email"
	FieldConsentSMS    = "consent_sms"
	FieldConsentPostal = "consent_postal"
)

// Fields lists every target field in display order.
var Fields = []string{
	FieldCustomerNo, FieldName, FieldNameKana, FieldBirthDate, FieldGender, FieldPhone, FieldMobile, FieldEmail,
	FieldPostalCode, FieldAddress, FieldBranch, FieldStaffInCharge,
	FieldConsentLINE, FieldConsentEmail, FieldConsentSMS, FieldConsentPostal, FieldTags,
}

// aliases are header names seen in Japanese core-banking and CRM exports,
// in the folded form of foldHeader.
var aliases = map[string][]string{
	FieldCustomerNo:    {"顧客番号", "顧客no", "顧客コード", "顧客id", "顧客cd", "会員番号", "cif", "cif番号", "customerno", "customernumber", "customerid", "custno", "customercode"},
	FieldName:          {"氏名", "名前", "顧客名", "お名前", "漢字氏名", "氏名漢字", "顧客氏名", "name", "fullname", "customername"},
	FieldNameKana:      {"氏名カナ", "カナ氏名", "フリガナ", "ふりがな", "カナ", "氏名フリガナ", "顧客名カナ", "カナ名", "kana", "namekana", "furigana", "kananame"},
	FieldBirthDate:     {"生年月日", "誕生日", "birthdate", "birthday", "dateofbirth", "dob"},
	FieldGender:        {"性別", "gender", "sex"},
	FieldPhone:         {"電話番号", "電話", "自宅電話", "自宅電話番号", "固定電話", "tel", "telno", "phone", "phonenumber", "telephone", "homephone"},
	FieldMobile:        {"携帯電話", "携帯電話番号", "携帯", "携帯番号", "mobile", "mobilephone", "cellphone", "mobileno"},
	FieldEmail:         {"メールアドレス", "メール", "eメール", "電子メール", "email", "emailaddress", "mail", "mailaddress"},
	FieldPostalCode:    {"郵便番号", "〒", "postalcode", "zip", "zipcode", "postcode"},
	FieldAddress:       {"住所", "住所1", "住所2", "住所3", "住所(番地)", "address", "address1", "address2"},
	FieldBranch:        {"店番", "店番号", "支店", "支店名", "店舗", "取引店", "店名", "branch", "branchcode", "branchno"},
	FieldStaffInCharge: {"担当者", "担当", "担当職員", "担当者名", "staff", "staffincharge", "rep"},
	FieldConsentLINE:   {"line同意", "line配信同意", "consentline", "lineconsent", "lineoptin"},
	FieldConsentEmail:  {"メール同意", "メール配信同意", "メール配信可否", "consentemail", "emailconsent", "emailoptin"},
	FieldConsentSMS:    {"sms同意", "sms配信同意", "consentsms", "smsconsent", "smsoptin"},
	FieldConsentPostal: {"dm可否", "dm同意", "郵送同意", "郵送dm可否", "consentpostal", "postalconsent", "dmoptin"},
	FieldTags:          {"タグ", "顧客タグ", "ラベル", "tags", "tag", "labels"},
}

var aliasIndex = func() map[string]string {
	m := map[string]string{}
	for f, list := range aliases {
		for _, a := range list {
			m[a] = f
		}
	}
	return m
}()

// foldHeader makes header names comparable: width-folded, lowercase,
// without spaces, underscores, hyphens, dots or brackets.
func foldHeader(h string) string {
	h = strings.ToLower(customer.NormalizeKey(h))
	return strings.Map(func(r rune) rune {
		switch r {
		case ' ', '_', '-', '.', '・', '(', ')', '（', '）', '[', ']', '「', '」', '　':
			return -1
		}
		return r
	}, h)
}

// AutoMap maps headers to fields by their common Japanese and English names.
// A field other than address is mapped at most once (the first column wins).
func AutoMap(headers []string) Mapping { return AutoMapKind(KindCustomers, headers) }

// AutoMapKind is AutoMap for the fields of an import kind.
func AutoMapKind(kind string, headers []string) Mapping {
	index := aliasIndex
	if kind == KindContracts {
		index = contractAliasIndex
	}
	m := Mapping{}
	used := map[string]bool{}
	for _, h := range headers {
		f, ok := index[foldHeader(h)]
		if !ok || (used[f] && f != FieldAddress) {
			continue
		}
		used[f] = true
		m[h] = f
	}
	return m
}

// Mapping maps header names to fields. Headers not in it are ignored.
type Mapping map[string]string

// columns returns the field of each column of a customers file, checking
// the mapping.
func (m Mapping) columns(headers []string) ([]string, error) {
	return m.columnsFor(KindCustomers, headers)
}

// columnsFor returns the field of each column, checking the mapping against
// the fields an import kind needs.
func (m Mapping) columnsFor(kind string, headers []string) ([]string, error) {
	cols := make([]string, len(headers))
	seen := map[string]bool{}
	valid := map[string]bool{}
	for _, f := range FieldsOf(kind) {
		valid[f] = true
	}
	for i, h := range headers {
		f := m[h]
		if f == "" {
			continue
		}
		if strings.HasPrefix(f, AttrPrefix) && kind == KindCustomers {
			continue // resolved against the definitions (attrColumns)
		}
		if !valid[f] {
			return nil, fmt.Errorf("%w: unknown field %q for column %q", ErrMapping, f, h)
		}
		if seen[f] && f != FieldAddress {
			return nil, fmt.Errorf("%w: field %q is mapped twice", ErrMapping, f)
		}
		seen[f] = true
		cols[i] = f
	}
	if !seen[FieldCustomerNo] {
		return nil, fmt.Errorf("%w: no column is mapped to the customer number", ErrMapping)
	}
	if kind == KindContracts {
		if !seen[FieldProductType] {
			return nil, fmt.Errorf("%w: no column is mapped to the product type", ErrMapping)
		}
		if !seen[FieldProductCode] && !seen[FieldAccountNo] {
			return nil, fmt.Errorf("%w: no column is mapped to the product code or account number", ErrMapping)
		}
		return cols, nil
	}
	if !seen[FieldName] {
		return nil, fmt.Errorf("%w: no column is mapped to the name", ErrMapping)
	}
	return cols, nil
}

// Profile is a saved mapping for one source system.
type Profile struct {
	Name      string  `json:"name"`
	Kind      string  `json:"kind"`      // customers ("" too) or contracts
	Encoding  string  `json:"encoding"`  // auto, utf-8, sjis, euc-jp
	Delimiter string  `json:"delimiter"` // "," or "\t"; "" detects
	Mapping   Mapping `json:"mapping"`
	UpdatedAt int64   `json:"updatedAt"`
}

// ErrNoProfile means no profile has the name.
var ErrNoProfile = errors.New("no such import profile")

// SaveProfile stores (or replaces) a mapping profile.
func SaveProfile(ctx context.Context, db *store.DB, p Profile, now time.Time) error {
	p.Name = strings.TrimSpace(p.Name)
	if p.Name == "" {
		return fmt.Errorf("%w: a profile needs a name", ErrMapping)
	}
	if _, err := ParseEncoding(p.Encoding); err != nil {
		return fmt.Errorf("%w: %v", ErrMapping, err)
	}
	settings, err := json.Marshal(p)
	if err != nil {
		return err
	}
	return db.Write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO import_profiles (name, settings, updated_at) VALUES (?, ?, ?)
			ON CONFLICT (name) DO UPDATE SET settings = excluded.settings, updated_at = excluded.updated_at`, p.Name, string(settings), now.UnixMilli())
		if err != nil {
			return fmt.Errorf("save import profile: %w", err)
		}
		return nil
	})
}

// LoadProfile reads a saved profile.
func LoadProfile(ctx context.Context, db *store.DB, name string) (Profile, error) {
	var settings string
	var updated int64
	err := db.Reader().QueryRowContext(ctx, `SELECT settings, updated_at FROM import_profiles WHERE name = ?`, name).Scan(&settings, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return Profile{}, fmt.Errorf("%w: %q", ErrNoProfile, name)
	}
	if err != nil {
		return Profile{}, fmt.Errorf("load import profile: %w", err)
	}
	var p Profile
	if err := json.Unmarshal([]byte(settings), &p); err != nil {
		return Profile{}, fmt.Errorf("import profile %q: %w", name, err)
	}
	p.Name, p.UpdatedAt = name, updated
	return p, nil
}

// Profiles lists the saved profiles.
func Profiles(ctx context.Context, db *store.DB) ([]Profile, error) {
	rows, err := db.Reader().QueryContext(ctx, `SELECT name FROM import_profiles ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("list import profiles: %w", err)
	}
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			rows.Close()
			return nil, err
		}
		names = append(names, n)
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return nil, err
	}
	out := []Profile{}
	for _, n := range names {
		p, err := LoadProfile(ctx, db, n)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

// HistoryEntry is one committed import.
type HistoryEntry struct {
	ID          int64  `json:"id"`
	Kind        string `json:"kind"`
	StartedAt   int64  `json:"startedAt"`
	FinishedAt  int64  `json:"finishedAt"`
	Staff       string `json:"staff"`
	FileName    string `json:"fileName"`
	SHA256      string `json:"sha256"`
	Encoding    string `json:"encoding"`
	Profile     string `json:"profile"`
	Missing     string `json:"missing"`
	Rows        int    `json:"rows"`
	New         int    `json:"new"`
	Updated     int    `json:"updated"`
	Unchanged   int    `json:"unchanged"`
	Rejected    int    `json:"rejected"`
	Inactivated int    `json:"inactivated"`
}

// History lists the latest committed imports, newest first.
func History(ctx context.Context, db *store.DB, limit int) ([]HistoryEntry, error) {
	rows, err := db.Reader().QueryContext(ctx, `SELECT id, kind, started_at, finished_at, staff, file_name, sha256, encoding, profile, missing,
		rows_total, rows_new, rows_updated, rows_unchanged, rows_rejected, inactivated FROM imports ORDER BY id DESC LIMIT ?`, limit)
	if err != nil {
		return nil, fmt.Errorf("import history: %w", err)
	}
	defer rows.Close()
	out := []HistoryEntry{}
	for rows.Next() {
		var h HistoryEntry
		if err := rows.Scan(&h.ID, &h.Kind, &h.StartedAt, &h.FinishedAt, &h.Staff, &h.FileName, &h.SHA256, &h.Encoding, &h.Profile, &h.Missing,
			&h.Rows, &h.New, &h.Updated, &h.Unchanged, &h.Rejected, &h.Inactivated); err != nil {
			return nil, fmt.Errorf("import history: %w", err)
		}
		out = append(out, h)
	}
	return out, rows.Err()
}
