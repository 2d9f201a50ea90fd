package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"tsunagu/internal/campaign"
	"tsunagu/internal/engine"
	"tsunagu/internal/secrets/secretstest"
	"tsunagu/internal/segment"
)

func TestCLICampaignCommands(t *testing.T) {
	kr := secretstest.Keyring(t)
	dir := filepath.Join(t.TempDir(), "data")
	secretstest.CleanupDataDir(t, kr, dir)
	if r := cli(t, kr, "", "init", "--data-dir", dir); r.code != 0 {
		t.Fatalf("init: %+v", r)
	}
	ctx := context.Background()
	eng, err := engine.Open(ctx, dir, kr)
	if err != nil {
		t.Fatal(err)
	}
	err = eng.DB().Write(ctx, func(tx *sql.Tx) error {
		for _, q := range []string{
			`INSERT INTO customers (id, customer_no, name, email, created_at, updated_at) VALUES (1, 'C1', '山田', 'y@example.jp', 0, 0), (2, 'C2', '佐藤', '', 0, 0)`,
			`INSERT INTO consents VALUES (1, 'email', 1, 't', 0)`,
		} {
			if _, err := tx.ExecContext(ctx, q); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	c, err := eng.Campaigns().Create(ctx, "staff:a", campaign.Draft{Name: "満期のご案内", Rules: segment.Node{Op: "and"},
		Channels: []string{campaign.ChannelEmail}, Content: campaign.Content{Email: campaign.Email{Subject: "満期", Text: "{氏名} 様"}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := eng.Campaigns().Approve(ctx, "staff:b", c.ID, c.Version); err != nil {
		t.Fatal(err)
	}
	eng.Close()

	r := cli(t, kr, "", "campaign", "list", "--data-dir", dir)
	if r.code != 0 || !strings.Contains(r.stdout, "満期のご案内") || !strings.Contains(r.stdout, "approved") {
		t.Fatalf("list: %+v", r)
	}
	r = cli(t, kr, "", "campaign", "show", "1", "--data-dir", dir)
	if r.code != 0 || !strings.Contains(r.stdout, "2 matched; LINE 0, email 1, SMS 0") || !strings.Contains(r.stdout, "no_contact") {
		t.Fatalf("show: %+v", r)
	}
	r = cli(t, kr, "", "campaign", "report", "1", "--data-dir", dir, "--json")
	var rep campaign.Report
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &rep) != nil || rep.Status != campaign.StatusApproved {
		t.Fatalf("report: %+v", r)
	}
	if r := cli(t, kr, "", "campaign", "resume", "1", "--data-dir", dir); r.code == 0 || !strings.Contains(r.stderr, "not sending") {
		t.Fatalf("resume an unsent campaign: %+v", r)
	}
	if r := cli(t, kr, "", "campaign", "show", "x", "--data-dir", dir); r.code != 2 {
		t.Fatalf("bad ID: %+v", r)
	}
}
