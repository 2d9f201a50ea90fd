package engine

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"tsunagu/internal/secrets/secretstest"
)

// The scheduled work fills the dashboard: LINE's friend counts of the days
// LINE has counted (the sandbox simulator's delay), never today; the
// demographics (withheld: a handful of simulated friends); and a snapshot
// of the own counts per day, which a later day keeps.
func TestScheduledWorkFillsTheDashboard(t *testing.T) {
	kr := secretstest.Keyring(t)
	dir := filepath.Join(t.TempDir(), "data")
	secretstest.CleanupDataDir(t, kr, dir)
	ctx := context.Background()
	clk := &clock{t: time.Now()}
	eng, err := Start(ctx, Options{DataDir: dir, Keyring: kr, Clock: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	friends := 0
	for _, c := range eng.Sim().Customers() {
		if c.Following {
			friends++
		}
	}
	if friends == 0 {
		t.Fatal("no simulated friends")
	}

	clk.Add(48 * time.Hour)
	eng.RunScheduledWork(ctx)
	d, err := eng.Dashboard(ctx)
	if err != nil {
		t.Fatal(err)
	}
	n := len(d.Days)
	if n != 30 {
		t.Fatalf("%d days, want 30", n)
	}
	today, yesterday := d.Days[n-1], d.Days[n-2]
	if today.Line.Status != "missing" || today.Line.CheckedAt != 0 {
		t.Fatalf("today was asked for: %+v", today.Line)
	}
	if yesterday.Line.Status != "ready" || yesterday.Line.Followers != int64(friends) {
		t.Fatalf("yesterday %+v, want ready with the %d simulated friends", yesterday.Line, friends)
	}
	if d.Demographics.Status != "withheld" {
		t.Fatalf("demographics %+v, want withheld under 20 friends", d.Demographics)
	}
	if !today.Own.Known {
		t.Fatalf("today's own counts: %+v", today.Own)
	}

	// A day later the previous day keeps its snapshot.
	clk.Add(24 * time.Hour)
	eng.RunScheduledWork(ctx)
	var days int
	if err := eng.DB().Reader().QueryRow(`SELECT count(*) FROM own_counts`).Scan(&days); err != nil || days != 2 {
		t.Fatalf("own count snapshots: %d, %v; want 2", days, err)
	}
	if d, err = eng.Dashboard(ctx); err != nil || !d.Days[len(d.Days)-2].Own.Known {
		t.Fatalf("yesterday's snapshot is not on the dashboard: %v", err)
	}
}
