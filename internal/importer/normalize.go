package importer

import (
	"strings"
	"time"
	"unicode/utf8"

	"tsunagu/internal/customer"
	"tsunagu/internal/export"
)

// allFields are the fields of every import kind; fieldIndex numbers them
// for the per-row value array.
var allFields = append(append([]string{}, Fields...), ContractFields[1:]...)

const maxFields = 24 // len(allFields), checked by a test

var fieldIndex = func() map[string]int {
	m := make(map[string]int, len(allFields))
	for i, f := range allFields {
		m[f] = i
	}
	return m
}()

var consentFields = []struct{ field, channel string }{
	{FieldConsentLINE, customer.ChannelLINE}, {FieldConsentEmail, customer.ChannelEmail},
	{FieldConsentSMS, customer.ChannelSMS}, {FieldConsentPostal, customer.ChannelPostal},
}

// row is one normalized, valid input row. values holds the canonical form
// per field (allFields order); consents are "1", "0" or "" (not given).
type row struct {
	customerNo string
	values     [maxFields]string
	attrs      []string // per normalizer.attrs; nil if none is mapped
	hash       uint64
}

// normalizer turns raw records into rows with one column layout.
type normalizer struct {
	kind    string
	list    []string // the kind's fields
	cols    []string // field per column
	headers []string
	fields  map[string]bool // mapped fields
	attrs   []attrColumn    // columns mapped to custom attributes
	today   string          // YYYY-MM-DD: a later birth date is rejected
	r       row             // reused: the caller copies a row before reading the next

	// Worked out once, not per row: per column, the values index of its
	// field (-1: not mapped) and the control characters it may hold; the
	// fields the row hash covers, in order.
	colIdx  []int
	allowed []string
	hashed  []hashedField
}

type hashedField struct {
	name string
	idx  int
	tags bool
}

func newNormalizer(cols, headers []string) *normalizer {
	return newKindNormalizer(KindCustomers, cols, headers, time.Now())
}

// newKindNormalizer normalizes records of kind; now is the import's clock
// (its date, in the clock's time zone, is "today" for birth dates).
func newKindNormalizer(kind string, cols, headers []string, now time.Time) *normalizer {
	n := &normalizer{kind: kind, list: FieldsOf(kind), cols: cols, headers: headers, fields: map[string]bool{}, today: now.Format(time.DateOnly)}
	n.colIdx, n.allowed = make([]int, len(cols)), make([]string, len(cols))
	for i, f := range cols {
		n.colIdx[i] = -1
		if f != "" {
			n.fields[f] = true
			n.colIdx[i], n.allowed[i] = fieldIndex[f], allowedControls(f)
		}
	}
	for _, f := range n.list {
		if n.fields[f] {
			n.hashed = append(n.hashed, hashedField{name: f, idx: fieldIndex[f], tags: f == FieldTags})
		}
	}
	return n
}

func (n *normalizer) header(field string) string {
	for i, f := range n.cols {
		if f == field {
			return n.headers[i]
		}
	}
	return ""
}

// row normalizes and validates one record. It returns the first problem
// found; the row is then rejected as a whole (a half-imported customer
// would be worse than a reported one).
func (n *normalizer) row(rec []string) (*row, *Issue) {
	r := &n.r
	r.values = [maxFields]string{}
	for i, f := range n.cols {
		idx := n.colIdx[i]
		if idx < 0 {
			continue
		}
		raw := export.Unneutralize(rec[i])
		if strings.ContainsRune(raw, utf8.RuneError) {
			return nil, &Issue{Column: n.headers[i], Value: Mask(raw), Reason: ReasonEncoding}
		}
		if customer.FindControl(raw, n.allowed[i]) >= 0 {
			return nil, &Issue{Column: n.headers[i], Value: Mask(raw), Reason: ReasonControl}
		}
		if utf8.RuneCountInString(raw) > MaxFieldRunes {
			return nil, &Issue{Column: n.headers[i], Value: Mask(raw), Reason: ReasonTooLong}
		}
		v, reason := normalizeField(f, raw)
		if reason == "" && f == FieldBirthDate && v > n.today { // both YYYY-MM-DD
			reason = ReasonBirthFuture
		}
		if reason != "" {
			return nil, &Issue{Column: n.headers[i], Value: Mask(raw), Reason: reason}
		}
		if f == FieldAddress && r.values[idx] != "" && v != "" {
			v = r.values[idx] + " " + v
		}
		r.values[idx] = v
	}
	if len(n.attrs) > 0 {
		r.attrs = make([]string, len(n.attrs)) // a new slice: rows are copied, not deep-copied
		for i, a := range n.attrs {
			raw := export.Unneutralize(rec[a.col])
			if strings.TrimSpace(raw) == "" {
				continue
			}
			if strings.ContainsRune(raw, utf8.RuneError) || utf8.RuneCountInString(raw) > MaxFieldRunes {
				return nil, &Issue{Column: n.headers[a.col], Value: Mask(raw), Reason: ReasonEncoding}
			}
			if customer.FindControl(raw, "\t") >= 0 {
				return nil, &Issue{Column: n.headers[a.col], Value: Mask(raw), Reason: ReasonControl}
			}
			v, err := a.def.CheckAttribute(raw)
			if err != nil {
				return nil, &Issue{Column: n.headers[a.col], Value: Mask(raw), Reason: ReasonAttribute}
			}
			r.attrs[i] = v
		}
	}
	r.customerNo = r.values[fieldIndex[FieldCustomerNo]]
	required := []string{FieldCustomerNo, FieldName}
	if n.kind == KindContracts {
		required = []string{FieldCustomerNo, FieldProductType}
		if r.values[fieldIndex[FieldProductCode]] == "" && r.values[fieldIndex[FieldAccountNo]] == "" {
			f := FieldAccountNo
			if !n.fields[f] {
				f = FieldProductCode
			}
			return nil, &Issue{Column: n.header(f), Reason: ReasonRequired}
		}
	}
	for _, f := range required {
		if r.values[fieldIndex[f]] == "" {
			return nil, &Issue{Column: n.header(f), Reason: ReasonRequired}
		}
	}
	// The hash covers exactly what the import writes, so an unchanged row
	// is recognised without reading the stored one.
	// It is stored (customers.row_hash): the bytes hashed and the hash
	// (FNV-1a, 64 bits) must stay as they are, or every customer of the
	// next import would count as changed.
	h := newFNV()
	for _, f := range n.hashed {
		v := r.values[f.idx]
		if f.tags {
			v = tagSet(v)
		}
		h.field(f.name, v)
	}
	for i, a := range n.attrs {
		h.field(AttrPrefix+a.def.Key, r.attrs[i])
	}
	r.hash = uint64(h) >> 1 // fits SQLite's signed INTEGER, never negative
	return r, nil
}

// fnv64 is FNV-1a as hash/fnv's New64a computes it, written out so that
// hashing a row's strings copies and allocates nothing.
type fnv64 uint64

func newFNV() fnv64 { return 14695981039346656037 }

const fnvPrime = 1099511628211

// field hashes name, a zero byte, v and a zero byte.
func (h *fnv64) field(name, v string) {
	x := *h
	for i := 0; i < len(name); i++ {
		x = (x ^ fnv64(name[i])) * fnvPrime
	}
	x *= fnvPrime // ^ 0
	for i := 0; i < len(v); i++ {
		x = (x ^ fnv64(v[i])) * fnvPrime
	}
	x *= fnvPrime
	*h = x
}

// allowedControls are the control characters field f may hold: tabs in
// free text (normalization folds them into spaces), and line breaks (of a
// quoted value spanning lines) in the address only, where they separate
// its parts. Everything else below U+0020, DEL and U+0080–U+009F is a
// sign of a broken or hostile file (NUL from a binary or UTF-16 file).
func allowedControls(f string) string {
	switch f {
	case FieldAddress:
		return "\t\n"
	case FieldName, FieldNameKana, FieldBranch, FieldStaffInCharge, FieldProductType, FieldAmountBand, FieldTags:
		return "\t"
	}
	return ""
}

// normalizeField returns the canonical value, or a Reason.
func normalizeField(field, raw string) (string, string) {
	switch field {
	case FieldCustomerNo:
		return customer.NormalizeCustomerNo(raw), ""
	case FieldName, FieldAddress, FieldBranch, FieldStaffInCharge, FieldProductType, FieldAmountBand:
		return customer.NormalizeText(raw), ""
	case FieldNameKana:
		return customer.NormalizeKana(raw), ""
	case FieldTags:
		return splitTags(raw), ""
	case FieldProductCode, FieldAccountNo:
		return customer.NormalizeKey(raw), ""
	case FieldProductStatus:
		return normalizeStatus(raw)
	case FieldBirthDate, FieldOpenedOn, FieldMaturesOn:
		v, err := customer.ParseDate(raw)
		if err != nil {
			return "", ReasonDate
		}
		return v, ""
	case FieldGender:
		v, err := customer.NormalizeGender(raw)
		if err != nil {
			return "", ReasonGender
		}
		return v, ""
	case FieldPhone, FieldMobile:
		if strings.TrimSpace(raw) == "" {
			return "", ""
		}
		v, err := customer.NormalizePhone(raw)
		if err != nil {
			return "", ReasonPhone
		}
		return v, ""
	case FieldEmail:
		if strings.TrimSpace(raw) == "" {
			return "", ""
		}
		v, err := customer.NormalizeEmail(raw)
		if err != nil {
			return "", ReasonEmail
		}
		return v, ""
	case FieldPostalCode:
		if strings.TrimSpace(raw) == "" {
			return "", ""
		}
		v, err := customer.NormalizePostal(raw)
		if err != nil {
			return "", ReasonPostal
		}
		return v, ""
	case FieldConsentLINE, FieldConsentEmail, FieldConsentSMS, FieldConsentPostal:
		switch strings.ToLower(customer.NormalizeKey(raw)) {
		case "":
			return "", ""
		case "1", "true", "yes", "y", "可", "有", "同意", "あり", "○", "〇":
			return "1", ""
		case "0", "false", "no", "n", "否", "不可", "無", "拒否", "なし", "×":
			return "0", ""
		}
		return "", ReasonConsent
	}
	return customer.NormalizeText(raw), ""
}
