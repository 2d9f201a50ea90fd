package store

import (
	"context"
	"database/sql"
	"strings"
	"testing"
)

// TestTrackedLinksOrderedMigration: tracked links and clicks stored under
// 0024's schema (random keys) come through the rebuild with their
// campaign, customer, URL, times and publication, each click on its link
// with its relay ID; a redelivered click ID is still refused; erasing a
// customer still takes their links and clicks.
func TestTrackedLinksOrderedMigration(t *testing.T) {
	ctx := context.Background()
	migs, err := loadMigrations(migrationFiles)
	if err != nil {
		t.Fatal(err)
	}
	before := -1
	for i, m := range migs {
		if strings.HasSuffix(m.name, "_tracked_links_ordered.sql") {
			before = i
		}
	}
	if before < 0 {
		t.Fatal("no tracked_links_ordered migration")
	}
	const tokA, tokB = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB"
	path, key := createAtVersion(t, before, func(tx *sql.Tx) error {
		for _, q := range []string{
			`INSERT INTO campaigns (id, name, rules, content, channels, author, created_at, updated_at) VALUES (7, 'c', '{}', '{}', '["line"]', 'staff:op', 0, 0)`,
			`INSERT INTO customers (id, customer_no, name, created_at, updated_at) VALUES (1, 'A', 'a', 0, 0), (2, 'B', 'b', 0, 0)`,
			`INSERT INTO tracked_links VALUES ('` + tokB + `', 7, 2, 'https://x.example/b', 10, 20, 15)`,
			`INSERT INTO tracked_links VALUES ('` + tokA + `', 7, 1, 'https://x.example/a', 10, 20, NULL)`,
			`INSERT INTO link_clicks VALUES ('00112233445566778899aabbccddeeff', '` + tokB + `', 7, 2, 'https://x.example/b', 17)`,
		} {
			if _, err := tx.Exec(q); err != nil {
				return err
			}
		}
		return nil
	})
	db, err := Open(ctx, path, key)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()

	type link struct {
		id                     int64
		token, source, url     string
		sourceID, customer     int64
		created, expires, pubd int64
	}
	var got []link
	rows, err := db.Reader().Query(`SELECT id, token, source, source_id, customer_id, url, created_at, expires_at, ifnull(published_at, -1)
		FROM tracked_links ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var l link
		if err := rows.Scan(&l.id, &l.token, &l.source, &l.sourceID, &l.customer, &l.url, &l.created, &l.expires, &l.pubd); err != nil {
			t.Fatal(err)
		}
		got = append(got, l)
	}
	rows.Close()
	want := []link{
		{1, tokA, "campaign", "https://x.example/a", 7, 1, 10, 20, -1},
		{2, tokB, "campaign", "https://x.example/b", 7, 2, 10, 20, 15},
	}
	if len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Fatalf("links %+v, want %+v", got, want)
	}
	var (
		linkID, at int64
		clickID    string
	)
	if err := db.Reader().QueryRow(`SELECT link_id, hex(click_id), clicked_at FROM link_clicks`).Scan(&linkID, &clickID, &at); err != nil ||
		linkID != 2 || clickID != "00112233445566778899AABBCCDDEEFF" || at != 17 {
		t.Fatalf("click %d %s %d %v", linkID, clickID, at, err)
	}
	err = db.Write(ctx, func(tx *sql.Tx) error {
		_, err := tx.Exec(`INSERT INTO link_clicks (link_id, click_id, clicked_at) VALUES (2, unhex('00112233445566778899aabbccddeeff'), 18)`)
		return err
	})
	if !IsUnique(err) {
		t.Fatalf("a redelivered click: %v", err)
	}
	if err := db.Write(ctx, func(tx *sql.Tx) error {
		_, err := tx.Exec(`DELETE FROM customers WHERE id = 2`)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	var links, clicks int
	db.Reader().QueryRow(`SELECT (SELECT COUNT(*) FROM tracked_links), (SELECT COUNT(*) FROM link_clicks)`).Scan(&links, &clicks)
	if links != 1 || clicks != 0 {
		t.Fatalf("after erasing customer 2: %d links, %d clicks", links, clicks)
	}
}
