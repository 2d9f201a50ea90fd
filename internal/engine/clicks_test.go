package engine

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"tsunagu/internal/campaign"
	"tsunagu/internal/clicks"
	"tsunagu/internal/linesim"
	"tsunagu/internal/relay"
	"tsunagu/internal/relay/relaytest"
	"tsunagu/internal/relay/wire"
	"tsunagu/internal/relayclient"
	"tsunagu/internal/secrets/secretstest"
	"tsunagu/internal/segment"
)

// lockedBuffer is a log sink the relay writes from many goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestTrackedLinksThroughTheRelay: a campaign with a tracked link (and one
// marked "do not track") to 1,000 simulated friends, live mode, through a
// relay on loopback. Every friend's message carries a link of their own;
// the relay received token → URL mappings and nothing else before the
// send; clicks from a subset are redirected at once and reach the
// customers' cards and conversations, once each; the click segment
// conditions select them; an unknown token gets the neutral page and
// stores nothing. After 1,000 tracked clicks the relay's files, log and
// metrics hold no LINE user ID, customer number or name.
func TestTrackedLinksThroughTheRelay(t *testing.T) {
	kr := secretstest.Keyring(t)
	ctx := context.Background()
	relayDir := t.TempDir()
	relayLog := &lockedBuffer{}
	var umu sync.Mutex
	var uploads [][]byte
	// Every friend clicks from this machine's one address: no per-address limit.
	rs := relaytest.Start(t, relay.Config{DataDir: relayDir, ClickRatePerClient: -1, Logger: slog.New(slog.NewTextHandler(relayLog, &slog.HandlerOptions{Level: slog.LevelDebug}))},
		func(h http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == "/v1/links" {
					body, _ := io.ReadAll(r.Body)
					umu.Lock()
					uploads = append(uploads, body)
					umu.Unlock()
					r.Body = io.NopCloser(bytes.NewReader(body))
				}
				h.ServeHTTP(w, r)
			})
		})
	code := rs.Tenant(t, "本店")
	sim, _, dir := liveFolder(t, kr, dlSecret, dlToken, "佐藤 一郎")
	eng, err := Start(ctx, Options{DataDir: dir, Keyring: kr, LineEndpoint: sim.URL()})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	en, err := eng.RelayEnroll(ctx, "staff:admin", rs.URL, code, relayclient.HTTPLoopback)
	if err != nil {
		t.Fatal(err)
	}
	sim.SetWebhookURL(en.WebhookURL)

	// 1,000 friends, linked customers with LINE consent.
	const friends = 1000
	users := make([]string, friends)
	names := make([]string, friends)
	numbers := make([]string, friends)
	custIDs := make([]int64, friends)
	err = eng.DB().Write(ctx, func(tx *sql.Tx) error {
		for i := range friends {
			names[i] = fmt.Sprintf("計測 太郎%04d", i)
			numbers[i] = fmt.Sprintf("CK%06d", 500000+i)
			if err := tx.QueryRowContext(ctx, `INSERT INTO customers (customer_no, name, created_at, updated_at) VALUES (?, ?, 0, 0) RETURNING id`,
				numbers[i], names[i]).Scan(&custIDs[i]); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO consents VALUES (?, 'line', 1, 't', 0)`, custIDs[i]); err != nil {
				return err
			}
			users[i] = linesim.NewUserID()
			sim.AddCustomer(linesim.Customer{UserID: users[i], DisplayName: names[i], Following: true})
			if _, err := tx.ExecContext(ctx, `INSERT INTO line_users (user_id, display_name, created_at) VALUES (?, ?, 0)`, users[i], names[i]); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO conversations (line_user_id, created_at) VALUES (?, 0)`, users[i]); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO customer_line_links VALUES (?, ?, 0, 'manual', '')`, custIDs[i], users[i]); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	const target = "https://www.example.jp/teiki/campaign?src=line"
	const privacy = "https://www.example.jp/privacy"
	svc := eng.Campaigns()
	d := campaign.Draft{Name: "定期預金キャンペーン", Rules: segment.Node{Op: "and"}, Channels: []string{campaign.ChannelLine},
		Content: campaign.Content{Line: []campaign.LineMessage{{Kind: "text", Text: "{氏名}様、金利上乗せのご案内です。\n詳しくは " + target + " をご覧ください。\n個人情報の取扱い: " + privacy}},
			Untracked: []string{privacy}}}
	if lp := d.Content.LinkPlan(eng.Clicks().Base(ctx) != ""); !lp.Available || len(lp.Links) != 2 || !lp.Links[0].Tracked || lp.Links[1].Tracked {
		t.Fatalf("link plan: %+v", lp)
	}
	c, err := svc.Create(ctx, "staff:op", d)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Approve(ctx, "staff:ap", c.ID, c.Version); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.SendNow(ctx, "staff:ap", c.ID); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, 60*time.Second, "campaign done", func() bool {
		got, err := svc.Get(ctx, c.ID)
		return err == nil && got.Status == campaign.StatusDone
	})

	// Every friend got a link of their own; the untracked link as written.
	linkRe := regexp.MustCompile(regexp.QuoteMeta(rs.URL) + `/c/` + en.Tenant + `/([A-Za-z0-9_-]{32})`)
	links := make([]string, friends)
	seen := map[string]bool{}
	for i, u := range users {
		ds := sim.Deliveries(u)
		if len(ds) != 1 {
			t.Fatalf("friend %d got %d messages", i, len(ds))
		}
		m := linkRe.FindStringSubmatch(ds[0].Text)
		if m == nil || strings.Contains(ds[0].Text, target) || !strings.Contains(ds[0].Text, privacy) || !strings.Contains(ds[0].Text, names[i]) {
			t.Fatalf("friend %d's message: %q", i, ds[0].Text)
		}
		if seen[m[1]] {
			t.Fatalf("token of friend %d used twice", i)
		}
		seen[m[1]] = true
		links[i] = m[0]
	}
	// The relay got tokens, URLs and expiries, nothing else, before the send.
	umu.Lock()
	published := 0
	for _, body := range uploads {
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.DisallowUnknownFields()
		var req wire.LinksRequest
		if err := dec.Decode(&req); err != nil {
			t.Fatalf("upload with more than token, url, expiry: %v", err)
		}
		for _, l := range req.Links {
			if l.URL != target || !seen[l.Token] {
				t.Fatalf("published %+v", l)
			}
			published++
		}
	}
	umu.Unlock()
	if published != friends {
		t.Fatalf("%d links published, want %d", published, friends)
	}
	// The conversation's copy shows the clerk the link, not a token
	// (the copies are written just after the send).
	var copies, tokenCopies int
	waitUntil(t, 30*time.Second, "copies in the conversations", func() bool {
		eng.DB().Reader().QueryRow(`SELECT COUNT(*), COUNT(*) FILTER (WHERE body LIKE '%/c/%') FROM messages WHERE source = ? AND direction = 'out'`,
			fmt.Sprintf("campaign:%d", c.ID)).Scan(&copies, &tokenCopies)
		return copies == friends
	})
	if copies != friends || tokenCopies != 0 {
		t.Fatalf("%d copies in the conversations, %d with a tracked link", copies, tokenCopies)
	}

	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	click := func(u string) (int, string, string) {
		t.Helper()
		res, err := noRedirect.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		body, _ := io.ReadAll(res.Body)
		return res.StatusCode, res.Header.Get("Location"), string(body)
	}
	// A subset clicks (one of them twice): redirected at once.
	var subset []int
	for i := 0; i < friends; i += 7 {
		subset = append(subset, i)
		if st, loc, _ := click(links[i]); st != http.StatusFound || loc != target {
			t.Fatalf("click of friend %d: %d %q", i, st, loc)
		}
	}
	click(links[0])
	// Attributed per person as soon as the desktop has fetched them (all
	// of them: the second click may come in a later batch than the firsts).
	waitUntil(t, 30*time.Second, "clicks attributed", func() bool {
		st, err := eng.Clicks().ForCampaign(ctx, c.ID)
		return err == nil && len(st) == 1 && st[0].Clickers >= len(subset) && st[0].Clicks >= len(subset)+1
	})
	st, _ := eng.Clicks().ForCampaign(ctx, c.ID)
	if st[0] != (clicks.LinkStats{URL: target, Recipients: friends, Clickers: len(subset), Clicks: len(subset) + 1}) {
		t.Fatalf("campaign figures: %+v", st[0])
	}
	for _, i := range []int{0, 7, 1} {
		cc, err := eng.Clicks().ForCustomer(ctx, custIDs[i])
		if err != nil {
			t.Fatal(err)
		}
		want := 0
		if i%7 == 0 {
			want = 1
		}
		if len(cc) != want || want == 1 && (cc[0].URL != target || cc[0].CampaignName != "定期預金キャンペーン") {
			t.Fatalf("customer %d's clicks: %+v", i, cc)
		}
		if i == 0 && cc[0].Clicks != 2 {
			t.Fatalf("customer 0 clicked twice: %+v", cc)
		}
	}
	// One quiet line per person and link in the conversation.
	var lines int
	eng.DB().Reader().QueryRow(`SELECT COUNT(*) FROM messages WHERE kind = ?`, clicks.KindClick).Scan(&lines)
	if lines != len(subset) {
		t.Fatalf("%d click lines, want %d", lines, len(subset))
	}
	// Segment conditions: clicked link X of campaign Y, and did not.
	cond := func(cmp string) int {
		n, err := eng.Segments().Count(ctx, segment.Node{Op: "and", Children: []segment.Node{{Cond: &segment.Condition{
			Kind: segment.KindClick, Campaign: fmt.Sprint(c.ID), Value: target, Cmp: cmp}}}})
		if err != nil {
			t.Fatal(err)
		}
		return n.Total
	}
	if got := cond(clicks.CmpClicked); got != len(subset) {
		t.Fatalf("clicked: %d, want %d", got, len(subset))
	}
	if got := cond(clicks.CmpNotClicked); got != friends-len(subset) {
		t.Fatalf("did not click: %d, want %d", got, friends-len(subset))
	}

	// Unknown token, unknown tenant, malformed token: the same neutral
	// page, and nothing is queued or stored.
	var raw [24]byte
	rand.Read(raw[:])
	unknown := rs.URL + "/c/" + en.Tenant + "/" + base64.RawURLEncoding.EncodeToString(raw[:])
	s1, l1, b1 := click(unknown)
	s2, _, b2 := click(rs.URL + "/c/t000000000000/" + base64.RawURLEncoding.EncodeToString(raw[:]))
	s3, _, b3 := click(rs.URL + "/c/" + en.Tenant + "/short")
	if s1 != http.StatusOK || l1 != "" || b1 != b2 || b1 != b3 || s2 != 200 || s3 != 200 || !strings.Contains(b1, "ご利用いただけません") {
		t.Fatalf("neutral page: %d %q %q / %d %q / %d", s1, l1, b1, s2, b2, s3)
	}
	// The rest click too: 1,000 tracked clicks in all.
	for i := range friends {
		if i%7 != 0 {
			if st, _, _ := click(links[i]); st != http.StatusFound {
				t.Fatalf("click of friend %d: %d", i, st)
			}
		}
	}
	waitUntil(t, 60*time.Second, "all clicks attributed", func() bool {
		st, err := eng.Clicks().ForCampaign(ctx, c.ID)
		return err == nil && len(st) == 1 && st[0].Clickers == friends
	})
	var stored int
	eng.DB().Reader().QueryRow(`SELECT COUNT(*) FROM link_clicks`).Scan(&stored)
	if stored != friends+1 {
		t.Fatalf("%d clicks stored, want %d (the unknown token stores nothing)", stored, friends+1)
	}

	// What the relay holds, logs and reports: no LINE user ID, customer
	// number or name.
	mrec := httptest.NewRecorder()
	rs.MetricsHandler().ServeHTTP(mrec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	metrics := mrec.Body.String()
	if !strings.Contains(metrics, `tsunagu_relay_clicks_total{result="queued",tenant="`+en.Tenant+`"} 1001`) {
		t.Fatalf("click metrics: %s", grepLines(metrics, "clicks_total"))
	}
	var files []byte
	filepath.WalkDir(relayDir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			b, _ := os.ReadFile(p)
			files = append(files, b...)
		}
		return nil
	})
	if len(files) == 0 {
		t.Fatal("no relay files read")
	}
	logs := relayLog.String()
	for i := range friends {
		for _, secret := range []string{users[i], names[i], numbers[i]} {
			for what, hay := range map[string]string{"files": string(files), "log": logs, "metrics": metrics} {
				if strings.Contains(hay, secret) {
					t.Fatalf("the relay's %s hold %q", what, secret)
				}
			}
		}
	}
}

func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

func waitUntil(t *testing.T, d time.Duration, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
