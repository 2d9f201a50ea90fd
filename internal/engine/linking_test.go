package engine

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"
	"time"

	"tsunagu/internal/linking"
	"tsunagu/internal/secrets/secretstest"
)

// TestSandboxLinkByCode: the engine's hook chain redeems a code a simulated
// customer sends (linking runs first and stops the chain), and the letter's
// QR code points at the simulator's basic ID.
func TestSandboxLinkByCode(t *testing.T) {
	kr := secretstest.Keyring(t)
	dir := filepath.Join(t.TempDir(), "data")
	secretstest.CleanupDataDir(t, kr, dir)
	ctx := context.Background()
	clk := &clock{t: time.Now()}
	eng, err := Start(ctx, Options{DataDir: dir, Keyring: kr, Emitter: newEvents(), Clock: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	var custID int64
	if err := eng.DB().Write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO customers (customer_no, name, created_at, updated_at) VALUES ('7001', '山田 花子', 0, 0)`)
		if err != nil {
			return err
		}
		custID, err = res.LastInsertId()
		return err
	}); err != nil {
		t.Fatal(err)
	}
	out, err := eng.Linking().Issue(ctx, "staff:tanaka", linking.IssueRequest{CustomerID: custID, Delivery: linking.DeliveryLetter})
	if err != nil {
		t.Fatal(err)
	}
	if out.Letter.BasicID != eng.Sim().BasicID() || out.Letter.QRDataURL == "" {
		t.Fatalf("letter = %+v", out.Letter)
	}
	user := eng.Sim().Customers()[0].UserID
	if _, err := eng.Sim().SendText(ctx, user, out.Letter.Prefill); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(3 * time.Second)
	for len(eng.Sim().Deliveries(user)) == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(50 * time.Millisecond)
	got := eng.Sim().Deliveries(user)
	if len(got) != 1 || got[0].Text != linking.ReplyLinked {
		t.Fatalf("deliveries = %+v", got)
	}
	l, err := eng.Linking().ByCustomer(ctx, custID)
	if err != nil || l == nil || l.LineUserID != user || l.Method != "code" {
		t.Fatalf("link = %+v %v", l, err)
	}
}
