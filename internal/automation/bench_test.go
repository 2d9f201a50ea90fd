package automation

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"
	"tsunagu/internal/store/storetest"

	"tsunagu/internal/segment"
	"tsunagu/internal/store"
)

// Benchmark_reminders_1m decides today's due reminders of three date rules
// — a 定期預金 maturing in 7 days, birthdays today, an insurance contract's
// anniversary (更新日) in 30 days — over 1,000,000 customers in the
// encrypted DB (1.58M products, 3M consents as columns of customers, 400k
// LINE links), with the channel each customer is reached on (consent
// enforced). Target: under 1 s. ms is the median of 5 warm runs; cold_ms is
// the first.
func Benchmark_reminders_1m(b *testing.B) {
	ctx := context.Background()
	db := storetest.New(b)
	t0 := time.Now()
	populate(b, db)
	b.Logf("population written in %s", time.Since(t0).Round(time.Second))
	now := time.Date(2026, 11, 25, 1, 0, 0, 0, time.UTC) // 10:00 in Tokyo
	clock := func() time.Time { return now }
	svc, err := New(Config{DB: db, Segments: segment.New(db, clock, nil), Clock: clock})
	if err != nil {
		b.Fatal(err)
	}
	rules := []Rule{
		{ID: 1, Kind: KindDate, Spec: Spec{Field: FieldMaturity, ProductType: "定期預金", OffsetDays: -7, At: "09:00", Channels: []string{"line", "email", "sms"}}},
		{ID: 2, Kind: KindDate, Spec: Spec{Field: FieldBirthday, OffsetDays: 0, At: "09:00", Channels: []string{"line", "email"}}},
		{ID: 3, Kind: KindDate, Spec: Spec{Field: FieldAnniversary, ProductType: "自動車保険", OffsetDays: -30, At: "09:00", Channels: []string{"line", "email", "sms"}}},
	}
	today := civil(now.In(tokyo))
	var (
		runs             []time.Duration
		nDue, candidates int
	)
	b.ResetTimer()
	for range b.N {
		for range 6 {
			nDue, candidates = 0, 0
			t := time.Now()
			for _, r := range rules {
				if err := svc.decide(ctx, r, today, func(x due) {
					candidates++
					if x.channel != "none" {
						nDue++
					}
				}); err != nil {
					b.Fatal(err)
				}
			}
			runs = append(runs, time.Since(t))
		}
	}
	b.StopTimer()
	if nDue == 0 {
		b.Fatal("nothing due: the benchmark measures nothing")
	}
	cold := runs[0]
	warm := append([]time.Duration(nil), runs[1:]...)
	sort.Slice(warm, func(i, j int) bool { return warm[i] < warm[j] })
	ms := float64(warm[len(warm)/2].Microseconds()) / 1000
	fmt.Printf("BENCH reminders_1m ms=%.1f due=%d ratio=%.3f cold_ms=%.1f candidates=%d\n",
		ms, nDue, ms/1000, float64(cold.Microseconds())/1000, candidates)
}

// populate writes 1,000,000 customers with products, consents and links.
func populate(tb testing.TB, db *store.DB) {
	const n = 1_000_000
	ctx := context.Background()
	err := db.Write(ctx, func(tx *sql.Tx) error {
		for _, q := range []string{
			`WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < ?)
			 INSERT INTO customers (id, customer_no, name, name_kana, birth_date, gender, postal_code, address, branch, staff_in_charge, status, email, mobile, created_at, updated_at)
			 SELECT i, printf('C%07d', i), '顧客 ' || i, 'コキャク', date('1940-01-01', '+' || (i * 37 % 25000) || ' days'),
			        CASE i % 2 WHEN 0 THEN 'male' ELSE 'female' END, printf('%03d-%04d', 100 + i % 900, i % 10000), '東京都千代田区丸の内1-1-' || (i % 100),
			        'B' || (i % 20), '担当' || (i % 50), CASE WHEN i % 50 = 0 THEN 'inactive' ELSE 'active' END,
			        CASE WHEN i % 2 = 0 THEN 'c' || i || '@example.jp' ELSE '' END,
			        CASE WHEN i % 3 = 0 THEN printf('090%08d', i) ELSE '' END, 0, 0 FROM s`,
			`INSERT INTO products (customer_id, type, product_code, opened_on, status, amount_band, created_at)
			 SELECT id, '普通預金', '0101', '2010-04-01', 'active', '100万未満', 0 FROM customers`,
			`INSERT INTO products (customer_id, type, product_code, opened_on, matures_on, status, amount_band, created_at)
			 SELECT id, '定期預金', '0201', '2023-04-01', date('2026-11-25', '+' || (id * 7 % 1095) || ' days'),
			        CASE WHEN id % 29 = 0 THEN 'closed' ELSE 'active' END, '100-300万', 0 FROM customers WHERE id % 3 = 0`,
			`INSERT INTO products (customer_id, type, product_code, opened_on, status, amount_band, created_at)
			 SELECT id, '自動車保険', '0901', date('2015-01-01', '+' || (id * 13 % 3650) || ' days'), 'active', '', 0 FROM customers WHERE id % 4 = 1`,
			`UPDATE customers SET consent_line = id % 4 <> 1, consent_line_source = 'import', consent_line_at = 0,
			        consent_email = id % 3 <> 1, consent_email_source = 'import', consent_email_at = 0,
			        consent_sms = id % 5 = 1, consent_sms_source = 'import', consent_sms_at = 0`,
			`INSERT INTO line_users (user_id, follow_state, created_at)
			 SELECT printf('U%032x', id), CASE WHEN id % 9 = 0 THEN 'unfollowed' ELSE 'following' END, 0 FROM customers WHERE id % 5 < 2`,
			`INSERT INTO customer_line_links (customer_id, line_user_id, linked_at, method) SELECT id, printf('U%032x', id), 0, 'import' FROM customers WHERE id % 5 < 2`,
		} {
			var args []any
			if strings.Contains(q, "?") {
				args = []any{n}
			}
			if _, err := tx.ExecContext(ctx, q, args...); err != nil {
				return fmt.Errorf("%.60s: %w", q, err)
			}
		}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := db.Writer().ExecContext(ctx, `ANALYZE`); err != nil {
		tb.Fatal(err)
	}
}
