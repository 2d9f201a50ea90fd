package importer

import (
	"errors"
	"fmt"
	"strings"

	"github.com/ncruces/go-sqlite3"

	"tsunagu/internal/customer"
)

// What an import fills: the customers themselves, or their contracts
// (products) from a second file keyed by customer number and product code
// or account number. Both kinds share the encodings, mapping, validation,
// row report, dry run, single transaction, history, progress and cancel.
const (
	KindCustomers = "customers"
	KindContracts = "contracts"
)

// Fields of a contracts file.
const (
	FieldProductType   = "product_type" // 普通預金, 定期預金, 住宅ローン ...
	FieldProductCode   = "product_code"
	FieldAccountNo     = "account_no"
	FieldOpenedOn      = "opened_on"
	FieldMaturesOn     = "matures_on"
	FieldProductStatus = "product_status" // active or closed
	FieldAmountBand    = "amount_band"    // a band, never an exact balance
)

// ContractFields lists the fields of a contracts file in display order.
var ContractFields = []string{
	FieldCustomerNo, FieldProductType, FieldProductCode, FieldAccountNo, FieldOpenedOn, FieldMaturesOn,
	FieldProductStatus, FieldAmountBand,
}

// FieldsOf returns the fields of an import kind ("" is customers).
func FieldsOf(kind string) []string {
	if kind == KindContracts {
		return ContractFields
	}
	return Fields
}

// ParseKind checks an import kind; "" is customers.
func ParseKind(kind string) (string, error) {
	switch kind {
	case "", KindCustomers:
		return KindCustomers, nil
	case KindContracts:
		return KindContracts, nil
	}
	return "", fmt.Errorf("%w: unknown import kind %q", ErrMapping, kind)
}

// ReasonUnknownCustomer rejects a contract whose customer number is not in
// the database (import the customers first).
const (
	ReasonUnknownCustomer = "unknownCustomer"
	ReasonStatus          = "status"
	ReasonAttribute       = "attribute"
)

func init() {
	reasonText[ReasonUnknownCustomer] = [2]string{"顧客番号が顧客データベースにありません（先に顧客を取り込んでください）", "no customer has this number (import the customers first)"}
	reasonText[ReasonStatus] = [2]string{"契約状態の値が不明です（有効/解約 など）", "unknown contract status (active/closed ...)"}
	reasonText[ReasonAttribute] = [2]string{"属性の型に合いません（数値・日付・はい/いいえ・選択肢）", "does not fit the attribute's type (number, date, yes/no, choice)"}
	for f, list := range contractAliases {
		for _, a := range list {
			contractAliasIndex[a] = f
		}
	}
}

// contractAliases are header names of contract exports, folded (foldHeader).
var contractAliases = map[string][]string{
	FieldCustomerNo:    aliases[FieldCustomerNo],
	FieldProductType:   {"商品種別", "商品区分", "商品名", "商品", "科目", "科目名", "口座種別", "預金種別", "契約種別", "種別", "producttype", "type", "product"},
	FieldProductCode:   {"商品コード", "商品cd", "商品番号", "科目コード", "productcode", "productcd", "code"},
	FieldAccountNo:     {"口座番号", "口座no", "口座", "契約番号", "証書番号", "accountno", "accountnumber", "account", "contractno"},
	FieldOpenedOn:      {"契約日", "開設日", "口座開設日", "取引開始日", "契約開始日", "opened", "openedon", "opendate", "startdate", "contractdate"},
	FieldMaturesOn:     {"満期日", "満期", "満了日", "返済完了日", "maturity", "matureson", "maturitydate", "maturedate", "enddate"},
	FieldProductStatus: {"状態", "契約状態", "ステータス", "口座状態", "解約区分", "status", "state"},
	FieldAmountBand:    {"金額帯", "残高区分", "預金残高区分", "金額区分", "残高帯", "amountband", "band", "balanceband"},
}

var contractAliasIndex = map[string]string{}

// normalizeStatus reads a contract status: active or closed.
func normalizeStatus(raw string) (string, string) {
	switch strings.ToLower(customer.NormalizeKey(raw)) {
	case "", "active", "open", "1", "有効", "契約中", "継続", "継続中", "稼働", "正常", "活動":
		return "active", ""
	case "closed", "close", "0", "解約", "解約済", "解約済み", "終了", "完済", "閉鎖", "満期解約", "無効":
		return "closed", ""
	}
	return "", ReasonStatus
}

// contractColumns are the products columns a contracts import may set
// besides its key (customer, product code, account number).
var contractColumns = []struct{ field, column string }{
	{FieldProductType, "type"}, {FieldOpenedOn, "opened_on"}, {FieldMaturesOn, "matures_on"},
	{FieldProductStatus, "status"}, {FieldAmountBand, "amount_band"},
}

// contractUpsertSQL inserts a contract, or updates the mapped columns of the
// imported contract with the same key if they changed (or it was closed
// and the file has no status column: it is in the file, so it is active).
// Products entered by hand are never touched (the key is a partial index
// over source = 'import').
func (r *run) contractUpsertSQL() string {
	cols := []string{"customer_id", "product_code", "account_no"}
	var sets, olds, news []string
	for _, c := range contractColumns {
		if r.norm.fields[c.field] {
			cols = append(cols, c.column)
			sets = append(sets, c.column+" = excluded."+c.column)
			olds = append(olds, "products."+c.column)
			news = append(news, "excluded."+c.column)
		}
	}
	changed := "(" + strings.Join(olds, ", ") + ") IS NOT (" + strings.Join(news, ", ") + ")"
	if !r.norm.fields[FieldProductStatus] {
		sets = append(sets, "status = 'active'")
		changed += " OR products.status <> 'active'"
	}
	sets = append(sets, "updated_import = excluded.updated_import")
	return fmt.Sprintf(`INSERT INTO products (%s, source, created_import, updated_import, created_at)
		VALUES (%s 'import', %d, %d, %d)
		ON CONFLICT (customer_id, product_code, account_no) WHERE source = 'import' DO UPDATE SET %s
		WHERE %s
		RETURNING created_import`,
		strings.Join(cols, ", "), strings.Repeat("?, ", len(cols)), r.importID, r.importID, r.now, strings.Join(sets, ", "), changed)
}

// prepareContracts prepares the statements of a contracts import.
func (r *run) prepareContracts(c *sqlite3.Conn) error {
	var err error
	if r.lookup, _, err = c.Prepare(`SELECT id FROM customers WHERE customer_no = ?`); err != nil {
		return fmt.Errorf("import: prepare: %w", err)
	}
	if r.upsert, _, err = c.Prepare(r.contractUpsertSQL()); err != nil {
		return fmt.Errorf("import: prepare: %w", err)
	}
	return nil
}

// contractKey identifies a contract within the file.
func contractKey(row *row) uint64 {
	return hashString(row.customerNo + "\x00" + row.values[fieldIndex[FieldProductCode]] + "\x00" + row.values[fieldIndex[FieldAccountNo]])
}

// writeContract upserts one contract; a contract of an unknown customer is
// rejected.
func (r *run) writeContract(row *row, line int) error {
	if err := r.lookup.BindText(1, row.customerNo); err != nil {
		return err
	}
	found := r.lookup.Step()
	id := r.lookup.ColumnInt64(0)
	if err := errors.Join(r.lookup.Err(), r.lookup.Reset()); err != nil {
		return err
	}
	if !found {
		r.reject(Issue{Line: line, Column: r.norm.header(FieldCustomerNo), Value: Mask(row.customerNo), Reason: ReasonUnknownCustomer,
			CustomerNo: row.customerNo, Raw: row.customerNo})
		return nil
	}
	stmt := r.upsert
	if err := stmt.BindInt64(1, id); err != nil {
		return err
	}
	vals := []string{row.values[fieldIndex[FieldProductCode]], row.values[fieldIndex[FieldAccountNo]]}
	for _, c := range contractColumns {
		if r.norm.fields[c.field] {
			vals = append(vals, row.values[fieldIndex[c.field]])
		}
	}
	for i, v := range vals {
		if err := stmt.BindText(i+2, v); err != nil {
			return err
		}
	}
	changed := stmt.Step()
	var created int64
	if changed {
		created = stmt.ColumnInt64(0)
	}
	if err := errors.Join(stmt.Err(), stmt.Reset(), stmt.ClearBindings()); err != nil {
		return err
	}
	switch {
	case !changed:
		r.res.Unchanged++
	case created == r.importID:
		r.res.New++
	default:
		r.res.Updated++
	}
	return nil
}

// missingContracts counts, and with MissingInactivate closes, the active
// imported contracts that were not in the file. Contracts entered by hand
// are left alone.
func (r *run) missingContracts() error {
	stmt, _, err := r.c.Prepare(`SELECT p.id, c.customer_no, p.product_code, p.account_no FROM products p JOIN customers c ON c.id = p.customer_id
		WHERE p.source = 'import' AND p.status = 'active' AND p.updated_import IS NOT ?`)
	if err != nil {
		return fmt.Errorf("import: missing contracts: %w", err)
	}
	var ids []int64
	if err := stmt.BindInt64(1, r.importID); err != nil {
		stmt.Close()
		return err
	}
	for stmt.Step() {
		if _, ok := r.seen[hashString(stmt.ColumnText(1)+"\x00"+stmt.ColumnText(2)+"\x00"+stmt.ColumnText(3))]; !ok {
			ids = append(ids, stmt.ColumnInt64(0))
		}
	}
	if err := errors.Join(stmt.Err(), stmt.Close()); err != nil {
		return fmt.Errorf("import: missing contracts: %w", err)
	}
	r.res.Missing = len(ids)
	if r.opts.Missing != MissingInactivate || len(ids) == 0 || r.res.New+r.res.Updated+r.res.Unchanged == 0 {
		return nil
	}
	upd, _, err := r.c.Prepare(`UPDATE products SET status = 'closed', updated_import = ? WHERE id = ?`)
	if err != nil {
		return err
	}
	defer upd.Close()
	for _, id := range ids {
		if err := execStmt(upd, r.importID, id); err != nil {
			return fmt.Errorf("import: close contracts: %w", err)
		}
	}
	r.res.Inactivated = len(ids)
	return nil
}
