package campaign

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"
)

func Benchmark_zzPlan(b *testing.B) {
	e := newEnv(b, envOptions{})
	ctx := context.Background()
	err := e.db.Write(ctx, func(tx *sql.Tx) error {
		for _, q := range []string{
			`WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < 100000)
			 INSERT INTO customers (id, customer_no, name, branch, created_at, updated_at) SELECT i, printf('C%07d', i), '顧客 ' || i, '本店', 0, 0 FROM s`,
			`INSERT INTO line_users (user_id, created_at) SELECT printf('U%032x', id), 0 FROM customers`,
			`INSERT INTO customer_line_links (customer_id, line_user_id, linked_at, method) SELECT id, printf('U%032x', id), 0, 'import' FROM customers`,
			`INSERT INTO consents (customer_id, channel, granted, source, recorded_at) SELECT id, 'line', 1, 'import', 0 FROM customers`,
		} {
			if _, err := tx.ExecContext(ctx, q); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	q := `SELECT c.id, (c.status = 'active') | (l.customer_id IS NOT NULL) << 1 | coalesce(u.follow_state = 'following' AND u.unreachable_at IS NULL, 0) << 2 | EXISTS (SELECT 1 FROM consents k WHERE k.customer_id = c.id AND k.channel = 'line' AND k.granted = 1) << 3, coalesce(l.line_user_id, '')
		FROM customers c LEFT JOIN customer_line_links l ON l.customer_id = c.id LEFT JOIN line_users u ON u.user_id = l.line_user_id
		WHERE c.id IN (SELECT value FROM json_each(?)) ORDER BY c.id`
	rows, _ := e.db.Reader().Query(`EXPLAIN QUERY PLAN `+q, "[1,2]")
	for rows.Next() {
		var a, b2, c int
		var d string
		rows.Scan(&a, &b2, &c, &d)
		fmt.Println(d)
	}
	rows.Close()
	if _, err := e.db.Writer().Exec(`CREATE INDEX lu_cover ON line_users(user_id, follow_state, unreachable_at)`); err != nil {
		b.Fatal(err)
	}
	q2 := strings.Replace(q, "c.id IN (SELECT value FROM json_each(?))", "c.id BETWEEN ? AND ?", 1)
	q3 := strings.Replace(q, "c.id IN (SELECT value FROM json_each(?))", "1", 1)
	q4 := `SELECT c.id, (c.status = 'active') | (l.customer_id IS NOT NULL) << 1, coalesce(l.line_user_id, '')
		FROM customers c LEFT JOIN customer_line_links l ON l.customer_id = c.id ORDER BY c.id`
	q5 := `SELECT c.id, (c.status = 'active') | (l.customer_id IS NOT NULL) << 1 | EXISTS (SELECT 1 FROM consents k WHERE k.customer_id = c.id AND k.channel = 'line' AND k.granted = 1) << 3, coalesce(l.line_user_id, '')
		FROM customers c LEFT JOIN customer_line_links l ON l.customer_id = c.id ORDER BY c.id`
	for _, qq := range []string{q3, q4, q5} {
		for range 2 {
		t := time.Now()
		rows, _ := e.db.Reader().Query(qq)
		n := 0
		for rows.Next() {
			var id, flags int64
			var u string
			rows.Scan(&id, &flags, &u)
			n++
		}
		rows.Close()
		fmt.Println("variant", n, time.Since(t))
		}
	}
	for run := range 2 {
		t := time.Now()
		n := 0
		for chunk := 0; chunk < 100000; chunk += 5000 {
			rows, _ := e.db.Reader().Query(q2, chunk+1, chunk+5000)
			for rows.Next() {
				var id, flags int64
				var u string
				rows.Scan(&id, &flags, &u)
				n++
			}
			rows.Close()
		}
		fmt.Println("between", run, n, time.Since(t))
	}
	for run := range 3 {
		t := time.Now()
		n := 0
		for chunk := 0; chunk < 100000; chunk += 5000 {
			var sb strings.Builder
			sb.WriteByte('[')
			for j := chunk + 1; j <= chunk+5000; j++ {
				if j > chunk+1 {
					sb.WriteByte(',')
				}
				sb.WriteString(strconv.Itoa(j))
			}
			sb.WriteByte(']')
			rows, err := e.db.Reader().Query(q, sb.String())
			if err != nil {
				b.Fatal(err)
			}
			for rows.Next() {
				var id, flags int64
				var u string
				rows.Scan(&id, &flags, &u)
				n++
			}
			rows.Close()
		}
		fmt.Println(run, n, time.Since(t))
		t = time.Now()
		rows, _ := e.db.Reader().Query(`SELECT c.id FROM customers c WHERE 1 ORDER BY c.id`)
		var ids []int64
		for rows.Next() {
			var id int64
			rows.Scan(&id)
			ids = append(ids, id)
		}
		rows.Close()
		fmt.Println("ids", len(ids), time.Since(t))
	}
}
