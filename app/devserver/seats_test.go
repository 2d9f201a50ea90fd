package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"tsunagu/internal/audit"
	"tsunagu/internal/campaign"
	"tsunagu/internal/datadir"
	"tsunagu/internal/engine"
	"tsunagu/internal/export"
	"tsunagu/internal/inbox"
	"tsunagu/internal/msgcode"
	"tsunagu/internal/seat/client"
	"tsunagu/internal/seat/forward"
	"tsunagu/internal/secrets"
	"tsunagu/internal/secrets/secretstest"
)

// The process test runs this test binary again as the devserver: with
// childEnv set, TestMain runs the program with those arguments instead of
// the tests (no separate build).
const childEnv = "TSUNAGU_DEVSERVER_TEST_ARGS"

// pairEnv makes the child pair its data folder with a primary instead
// (pairRequest as JSON), in its own keyring session, and print PAIRED NAME.
const pairEnv = "TSUNAGU_DEVSERVER_TEST_PAIR"

type pairRequest struct{ Addr, Code, Fingerprint, Dir string }

func TestMain(m *testing.M) {
	if js := os.Getenv(pairEnv); js != "" {
		if err := pairChild(js); err != nil {
			fmt.Fprintln(os.Stderr, "pair:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	if js := os.Getenv(childEnv); js != "" {
		var args []string
		if err := json.Unmarshal([]byte(js), &args); err != nil {
			fmt.Fprintln(os.Stderr, "child args:", err)
			os.Exit(2)
		}
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		err := run(ctx, args)
		stop()
		if err != nil {
			fmt.Fprintln(os.Stderr, "tsunagu-devserver:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// pairChild pairs a seat's data folder, its key going into this process's
// keychain (the seat's own keyring session).
func pairChild(js string) error {
	var req pairRequest
	if err := json.Unmarshal([]byte(js), &req); err != nil {
		return err
	}
	dir, err := datadir.Ensure(req.Dir)
	if err != nil {
		return err
	}
	id, err := dir.InstallID()
	if err != nil {
		return err
	}
	res, err := client.Pair(context.Background(), client.PairOptions{Addr: req.Addr, Code: req.Code, Fingerprint: req.Fingerprint,
		Dir: dir, Secrets: secrets.New(secrets.OSKeyring(), id)})
	if err != nil {
		return err
	}
	fmt.Printf("PAIRED %s\n", res.Name)
	return nil
}

// keyringSession runs a command in a D-Bus session of its own with an
// unlocked gnome-keyring (as .ci/keyring-session does), the keyring kept in
// XDG_DATA_HOME: a seat's programs started with the same folder find the
// same keychain, and no other process's.
const keyringSession = `set -eu
eval "$(printf 'tsunagu-seat\n' | gnome-keyring-daemon --unlock --components=secrets)"
export GNOME_KEYRING_CONTROL
for _ in $(seq 300); do
  dbus-send --session --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
    org.freedesktop.DBus.GetNameOwner string:org.freedesktop.secrets >/dev/null 2>&1 && break
  sleep 0.1
done
exec "$@"`

// ownKeyring returns a command running this test binary (as a child, with
// env) in its own keyring session kept in home, in a process group of its
// own so that stopping it stops its bus and keyring daemon too.
func ownKeyring(home string, env []string) *exec.Cmd {
	cmd := exec.Command("dbus-run-session", "--", "sh", "-c", keyringSession, "sh", os.Args[0], "-test.run=^$")
	for _, kv := range os.Environ() {
		switch k, _, _ := strings.Cut(kv, "="); k {
		case "DBUS_SESSION_BUS_ADDRESS", "GNOME_KEYRING_CONTROL", "XDG_DATA_HOME", "SSH_AUTH_SOCK":
			continue // the test's own session
		}
		cmd.Env = append(cmd.Env, kv)
	}
	cmd.Env = append(append(cmd.Env, "XDG_DATA_HOME="+home), env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	return cmd
}

// pairInOwnKeyring pairs dir with the primary in the seat's keyring session.
func pairInOwnKeyring(t *testing.T, home string, req pairRequest) string {
	t.Helper()
	js, _ := json.Marshal(req)
	cmd := ownKeyring(home, []string{pairEnv + "=" + string(js)})
	var stderr bytes.Buffer
	cmd.Stderr = &stderr // also the bus's own complaints
	out, err := cmd.Output()
	name, ok := strings.CutPrefix(strings.TrimSpace(string(out)), "PAIRED ")
	if err != nil || !ok {
		t.Fatalf("pair %s: %v\n%s%s", req.Dir, err, out, stderr.String())
	}
	return name
}

// Deadlines are generous: the machine running the tests may be loaded.
const wait = 60 * time.Second

// devserver is one tsunagu-devserver process.
type devserver struct {
	name  string
	cmd   *exec.Cmd
	base  string // http://127.0.0.1:PORT
	seats string // the seat port (a primary with --seat-listen)
	fp    string // the primary's short fingerprint
	log   *syncBuf
	done  chan struct{}
}

type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func startDevserver(t *testing.T, name string, env []string, args ...string) *devserver {
	t.Helper()
	js, _ := json.Marshal(append([]string{"--listen", "127.0.0.1:0", "--static", filepath.Join(t.TempDir(), "no-frontend")}, args...))
	var cmd *exec.Cmd
	if home, ok := keyringHome(env); ok {
		cmd = ownKeyring(home, append(env, childEnv+"="+string(js)))
	} else {
		cmd = exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(append(os.Environ(), childEnv+"="+string(js)), env...)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	d := &devserver{name: name, cmd: cmd, log: &syncBuf{}, done: make(chan struct{})}
	cmd.Stderr = d.log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ready := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			line := sc.Text()
			fmt.Fprintln(d.log, line)
			if f := strings.Fields(line); len(f) == 3 && f[0] == "SEATS" {
				d.seats, d.fp = f[1], f[2]
			}
			if u, ok := strings.CutPrefix(line, "LISTEN "); ok {
				d.base = strings.TrimSpace(u)
				close(ready)
			}
		}
	}()
	go func() {
		cmd.Wait()
		close(d.done)
	}()
	t.Cleanup(func() { d.stop() })
	select {
	case <-ready:
	case <-d.done:
		t.Fatalf("%s exited early:\n%s", name, d.log)
	case <-time.After(wait):
		t.Fatalf("%s printed no LISTEN line:\n%s", name, d.log)
	}
	return d
}

// keyringHome is the XDG_DATA_HOME in env: the devserver then runs in a
// keyring session of its own kept there (ownKeyring).
func keyringHome(env []string) (string, bool) {
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "XDG_DATA_HOME="); ok {
			return v, true
		}
	}
	return "", false
}

// signal sends sig to the devserver, and to its keyring session's bus and
// daemon when it has its own (its process group).
func (d *devserver) signal(sig syscall.Signal) {
	if d.cmd.SysProcAttr != nil && d.cmd.SysProcAttr.Setpgid {
		syscall.Kill(-d.cmd.Process.Pid, sig)
		return
	}
	d.cmd.Process.Signal(sig)
}

// stop ends the process as Ctrl-C would.
func (d *devserver) stop() {
	select {
	case <-d.done:
		return
	default:
	}
	d.signal(syscall.SIGINT)
	select {
	case <-d.done:
	case <-time.After(wait):
		d.signal(syscall.SIGKILL)
		<-d.done
	}
}

// kill ends it at once, as a power cut would.
func (d *devserver) kill() {
	d.cmd.Process.Kill()
	<-d.done
}

var httpc = &http.Client{Timeout: wait}

// call is POST /api/call/METHOD; it returns the result, or the error's
// message code (and the whole error body).
func (d *devserver) call(t *testing.T, method string, args ...any) (json.RawMessage, string) {
	t.Helper()
	if args == nil {
		args = []any{}
	}
	body, _ := json.Marshal(args)
	res, err := httpc.Post(d.base+"/api/call/"+method, "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatalf("%s %s: %v", d.name, method, err)
	}
	defer res.Body.Close()
	var raw json.RawMessage
	if err := json.NewDecoder(res.Body).Decode(&raw); err != nil {
		t.Fatalf("%s %s: status %d, %v", d.name, method, res.StatusCode, err)
	}
	if res.StatusCode != http.StatusOK {
		var e struct{ Error string }
		json.Unmarshal(raw, &e)
		return raw, e.Error
	}
	return raw, ""
}

// must is call that fails the test on an error, decoding the result into out.
func (d *devserver) must(t *testing.T, out any, method string, args ...any) {
	t.Helper()
	raw, code := d.call(t, method, args...)
	if code != "" {
		t.Fatalf("%s %s: %s\n%s", d.name, method, raw, d.log)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			t.Fatalf("%s %s: %v: %s", d.name, method, err, raw)
		}
	}
}

// events is one browser's /api/events stream.
type events struct {
	mu     sync.Mutex
	got    []sse
	notify chan struct{}
}

type sse struct{ name, data string }

func (d *devserver) events(t *testing.T) *events {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, d.base+"/api/events", nil)
	res, err := http.DefaultClient.Do(req)
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("%s events: %v", d.name, err)
	}
	e := &events{notify: make(chan struct{}, 1)}
	go func() {
		defer res.Body.Close()
		sc := bufio.NewScanner(res.Body)
		var cur sse
		for sc.Scan() {
			line := sc.Text()
			switch {
			case strings.HasPrefix(line, "event: "):
				cur.name = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "data: "):
				cur.data = strings.TrimPrefix(line, "data: ")
			case line == "" && cur.name != "":
				e.mu.Lock()
				e.got = append(e.got, cur)
				e.mu.Unlock()
				select {
				case e.notify <- struct{}{}:
				default:
				}
				cur = sse{}
			}
		}
	}()
	return e
}

// waitFor waits for an event called name whose data contains part, from
// index from on; it returns the index after it.
func (e *events) waitFor(t *testing.T, who, name, part string, from int) int {
	t.Helper()
	deadline := time.After(wait)
	for {
		e.mu.Lock()
		for i := from; i < len(e.got); i++ {
			if e.got[i].name == name && strings.Contains(e.got[i].data, part) {
				e.mu.Unlock()
				return i + 1
			}
		}
		e.mu.Unlock()
		select {
		case <-e.notify:
		case <-deadline:
			e.mu.Lock()
			defer e.mu.Unlock()
			t.Fatalf("%s: no event %s with %q; got %v", who, name, part, e.got)
		}
	}
}

func (e *events) len() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.got)
}

// pw is a staff member's own password, after the first sign-in.
func pw(login string) string { return login + " own secret 5678" }

// eventually retries fn until it returns true (for a state another
// process reaches in its own time).
func eventually(t *testing.T, what string, fn func() bool) {
	t.Helper()
	deadline := time.Now().Add(wait)
	for !fn() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting: %s", what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestSeatsProcesses: one primary devserver (sandbox, simulated LINE) and
// three seat devservers, each a process with its own data folder and TMPDIR,
// paired with seat codes and forwarding their browsers' calls and events
// over mutual TLS on loopback. Each seat signs in as its own staff member;
// a customer's message reaches all three event streams; the reply
// confirmation and presence work across seats; a campaign planned on one
// seat is approved on another; the primary killed and restarted on its
// address: seats report away, calls fail at once, then they resume without
// restarting; a revoked seat is refused. Afterwards no seat's folder or
// temp folder holds a customer's name, phone number or message.
func TestSeatsProcesses(t *testing.T) {
	kr := secretstest.RealKeyring(t) // the primary's keyring session (the test's); each seat has its own
	ctx := context.Background()
	base := t.TempDir()
	pdir := filepath.Join(base, "primary")
	secretstest.CleanupDataDir(t, kr, pdir)
	ptmp := filepath.Join(base, "primary-tmp")
	os.MkdirAll(ptmp, 0o700)
	p := startDevserver(t, "primary", []string{"TMPDIR=" + ptmp}, "--data-dir", pdir, "--seat-listen", "127.0.0.1:0")
	if p.seats == "" || p.fp == "" {
		t.Fatalf("the primary printed no SEATS line:\n%s", p.log)
	}

	// The branch: an administrator at the primary, three staff members,
	// one customer with a phone number.
	const custName, custPhone = "鈴木 一郎", "090-3141-5926"
	csv := filepath.Join(base, "customers.csv")
	os.WriteFile(csv, []byte("顧客番号,氏名,電話番号,店番\nK1,"+custName+","+custPhone+",001\n"), 0o600)
	p.must(t, nil, "CreateFirstAdmin", "admin", "管理者", "admin password 1234")
	staff := []struct{ login, name, role, seat string }{
		{"teller1", "山田", "operator", "窓口1"},
		{"teller2", "佐藤", "operator", "窓口2"},
		{"manager", "支店長", "approver", "支店長席"},
	}
	for _, s := range staff {
		p.must(t, nil, "CreateStaff", map[string]string{"login": s.login, "displayName": s.name, "role": s.role, "password": s.login + " password 1234"})
	}
	p.must(t, nil, "RunImport", map[string]any{"path": csv})

	// Pairing: a code per seat, issued on the primary's database (as
	// `tsunagu-cli seat code` does beside the running primary).
	codes := map[string]string{}
	eng, err := engine.Open(ctx, pdir, kr)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range staff {
		c, err := eng.Seats().IssueCode(ctx, "staff:admin", s.seat)
		if err != nil {
			t.Fatal(err)
		}
		codes[s.seat] = c.Code
	}
	eng.Close()

	type seatProc struct {
		*devserver
		dir, tmp string
		keys     string // XDG_DATA_HOME of its own keyring session
		files    string // the person's own folder: the seat's dialogs open and save there
		ev       *events
	}
	// A file on 窓口1's PC to import from it (another customer).
	const seatCustName, seatCustPhone = "高橋 花子", "080-2718-2818"
	seats := make([]*seatProc, len(staff))
	for i, s := range staff {
		sp := &seatProc{dir: filepath.Join(base, fmt.Sprintf("seat%d", i+1)), tmp: filepath.Join(base, fmt.Sprintf("seat%d-tmp", i+1)),
			keys: filepath.Join(base, fmt.Sprintf("seat%d-keyring", i+1)), files: filepath.Join(base, fmt.Sprintf("seat%d-files", i+1))}
		os.MkdirAll(sp.tmp, 0o700)
		os.MkdirAll(sp.keys, 0o700)
		os.MkdirAll(sp.files, 0o700)
		seatCSV := filepath.Join(sp.files, "勘定系.csv")
		os.WriteFile(seatCSV, []byte("顧客番号,氏名,電話番号,店番\nK2,"+seatCustName+","+seatCustPhone+",001\n"), 0o600)
		// Paired in the seat's own keyring session: its key is in no
		// other process's keychain (below: not in the test's).
		if name := pairInOwnKeyring(t, sp.keys, pairRequest{Addr: p.seats, Code: codes[s.seat], Fingerprint: p.fp, Dir: sp.dir}); name != s.seat {
			t.Fatalf("pair %s: paired as %q", s.seat, name)
		}
		dir, err := datadir.Existing(sp.dir)
		if err != nil {
			t.Fatal(err)
		}
		id, err := dir.ReadInstallID()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := secrets.New(kr, id).SeatKey(ctx); !errors.Is(err, secrets.ErrNotFound) {
			t.Fatalf("%s's key in the test's keychain: %v (want not found: it is only in its own)", s.seat, err)
		}
		sp.devserver = startDevserver(t, s.seat, []string{"TMPDIR=" + sp.tmp, "XDG_DATA_HOME=" + sp.keys}, "--data-dir", sp.dir, "--seat",
			"--pick-file", seatCSV, "--save-dir", sp.files)
		sp.ev = sp.devserver.events(t)
		seats[i] = sp
	}

	// Each seat signs in as its own staff member, on the primary.
	for i, sp := range seats {
		s := staff[i]
		eventually(t, s.seat+" connected", func() bool {
			_, code := sp.call(t, "AuthState")
			return code == ""
		})
		var st struct {
			SignedIn bool
			Staff    struct{ Login, Role string }
		}
		sp.must(t, nil, "SignIn", s.login, s.login+" password 1234")
		// A password the administrator set is changed at the first sign-in.
		sp.must(t, nil, "ChangePassword", s.login+" password 1234", pw(s.login))
		sp.must(t, &st, "AuthState")
		if !st.SignedIn || st.Staff.Login != s.login || st.Staff.Role != s.role {
			t.Fatalf("%s signed in as %+v", s.seat, st)
		}
	}
	// Roles are the primary's, per seat: an operator cannot list staff.
	if _, code := seats[0].call(t, "ListStaff"); code != msgcode.Forbidden {
		t.Fatalf("an operator's seat listed staff: %q", code)
	}
	// The seats see the customer through the primary.
	var page struct {
		Customers []struct {
			ID    int64
			Name  string
			Phone string
		}
	}
	seats[0].must(t, &page, "Customers", map[string]any{"query": "K1", "limit": 5})
	if len(page.Customers) != 1 || page.Customers[0].Name != custName {
		t.Fatalf("customers on a seat: %+v", page)
	}
	seats[0].must(t, nil, "Customer", page.Customers[0].ID)

	// A simulated customer writes (the sandbox phone, on the primary):
	// every seat's event stream hears of it.
	const said = "定期預金の満期について相談したいです"
	var sims []struct{ UserID, DisplayName string }
	p.must(t, &sims, "SandboxCustomers")
	if len(sims) == 0 {
		t.Fatal("no simulated customers")
	}
	marks := make([]int, len(seats))
	for i, sp := range seats {
		marks[i] = sp.ev.len()
	}
	p.must(t, nil, "SandboxSend", sims[0].UserID, said)
	for i, sp := range seats {
		sp.ev.waitFor(t, staff[i].seat, inbox.EventChanged, "", marks[i])
	}
	var conv struct{ ID int64 }
	eventually(t, "the conversation on a seat", func() bool {
		var convs []struct {
			ID         int64
			LineUserID string `json:"lineUserId"`
		}
		seats[1].must(t, &convs, "Conversations")
		for _, c := range convs {
			if c.LineUserID == sims[0].UserID {
				conv.ID = c.ID
				return true
			}
		}
		return false
	})

	// Two tellers open it: each sees the other; the second to answer is
	// told that the first already did.
	var msgs []struct {
		ID   int64
		Body string
	}
	seats[1].must(t, &msgs, "Messages", conv.ID)
	seen := msgs[len(msgs)-1].ID
	if !strings.Contains(msgs[len(msgs)-1].Body, said) {
		t.Fatalf("messages on a seat: %+v", msgs)
	}
	seats[0].must(t, nil, "ViewConversation", conv.ID)
	var others []struct{ Login, Seat string }
	seats[1].must(t, &others, "ViewConversation", conv.ID)
	if len(others) != 1 || others[0].Login != "teller1" || others[0].Seat != "窓口1" {
		t.Fatalf("presence on 窓口2: %+v", others)
	}
	seats[0].must(t, nil, "Reply", conv.ID, "ご連絡ありがとうございます。担当の山田です。")
	var answers []struct{ By string }
	seats[1].must(t, &answers, "AnsweredSince", conv.ID, seen)
	if len(answers) != 1 || answers[0].By != "山田" {
		t.Fatalf("窓口2 was not told that 山田 answered: %+v", answers)
	}

	// Maker-checker across seats: 窓口1 plans, 支店長席 approves.
	draft := map[string]any{"name": "満期のお知らせ", "channels": []string{"email"},
		"rules":   map[string]any{"op": "and", "children": []any{map[string]any{"cond": map[string]any{"kind": "field", "field": "branch", "cmp": "eq", "value": "001"}}}},
		"content": map[string]any{"email": map[string]any{"subject": "満期のお知らせ", "text": "{氏名} 様"}}}
	var camp struct {
		ID      int64
		Version int
		Status  string
	}
	seats[0].must(t, &camp, "CreateCampaign", draft)
	if _, code := seats[0].call(t, "ApproveCampaign", camp.ID, camp.Version); code != msgcode.Forbidden {
		t.Fatalf("the operator approved on 窓口1: %q", code)
	}
	mark := seats[0].ev.len()
	seats[2].must(t, &camp, "ApproveCampaign", camp.ID, camp.Version)
	if camp.Status != campaign.StatusApproved {
		t.Fatalf("approved on 支店長席: %+v", camp)
	}
	seats[0].ev.waitFor(t, "窓口1", campaign.EventChanged, "", mark)

	// Files on a seat are the seat's: an administrator at 窓口1 imports a
	// file of that PC and exports the customers to that PC's folder; the
	// primary writes neither (its own --save-dir is its TMPDIR).
	seats[0].must(t, nil, "SignIn", "admin", "admin password 1234")
	var picked string
	seats[0].must(t, &picked, "PickImportFile")
	var pv struct{ Rows []struct{ Raw []string } }
	seats[0].must(t, &pv, "ImportPreview", map[string]any{"path": picked})
	if picked != filepath.Join(seats[0].files, "勘定系.csv") || len(pv.Rows) != 1 || pv.Rows[0].Raw[1] != seatCustName {
		t.Fatalf("a seat's import preview of %q: %+v", picked, pv)
	}
	var imp struct{ New int }
	seats[0].must(t, &imp, "RunImport", map[string]any{"path": picked})
	var k2 struct{ Customers []struct{ Name string } }
	p.must(t, &k2, "Customers", map[string]any{"query": "K2", "limit": 5})
	if imp.New != 1 || len(k2.Customers) != 1 || k2.Customers[0].Name != seatCustName {
		t.Fatalf("imported from a seat: %+v, on the primary %+v", imp, k2)
	}
	var exp struct {
		Path string
		Rows int
	}
	seats[0].must(t, &exp, "ExportCustomers", "utf-8-bom")
	if b, err := os.ReadFile(exp.Path); err != nil || filepath.Dir(exp.Path) != seats[0].files || exp.Rows != 2 ||
		!bytes.Contains(b, []byte(custName)) || !bytes.Contains(b, []byte(seatCustName)) {
		t.Fatalf("a seat's export %+v: %v\n%s", exp, err, b)
	}
	var trail struct{ Entries []audit.Entry }
	p.must(t, &trail, "AuditEntries", map[string]any{"action": export.ActionExport})
	if len(trail.Entries) != 1 || trail.Entries[0].Actor != "staff:admin" || trail.Entries[0].Detail[audit.DetailSeat] != "窓口1" {
		t.Fatalf("the seat's export on the audit trail: %+v", trail.Entries)
	}
	seats[0].must(t, nil, "SignIn", staff[0].login, pw(staff[0].login))
	// The saved export is the person's file, in the folder they chose,
	// beside the file they imported; nothing else was left there.
	if names, _ := os.ReadDir(seats[0].files); len(names) != 2 {
		t.Fatalf("窓口1's folder after the export: %v", names)
	}
	// Nothing of either file on the primary's disk: its folder and temp
	// folder hold neither customer in the clear (the database is
	// encrypted) nor an export.
	for _, root := range []string{pdir, ptmp} {
		filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			if strings.HasSuffix(path, ".csv") {
				t.Errorf("a CSV file on the primary: %s", path)
			}
			if b, err := os.ReadFile(path); err == nil && (bytes.Contains(b, []byte(seatCustName)) || bytes.Contains(b, []byte(custName))) {
				t.Errorf("%s holds a customer's name", path)
			}
			return nil
		})
	}

	// The primary dies while the seats are connected: they say so, calls
	// fail at once with the banner's code, and after the primary restarts
	// on its address they resume without being restarted.
	for i := range marks {
		marks[i] = seats[i].ev.len()
	}
	p.kill()
	for i, sp := range seats {
		sp.ev.waitFor(t, staff[i].seat, forward.EventConnection, `"away"`, marks[i])
		start := time.Now()
		if _, code := sp.call(t, "Conversations"); code != msgcode.PrimaryAway {
			t.Fatalf("%s with the primary away: %q", staff[i].seat, code)
		}
		// Nothing waits for a timeout: the seat knows the primary is away.
		if d := time.Since(start); d > 10*time.Second {
			t.Fatalf("%s took %v to fail", staff[i].seat, d)
		}
	}
	p = startDevserver(t, "primary again", []string{"TMPDIR=" + ptmp}, "--data-dir", pdir, "--seat-listen", p.seats)
	for i, sp := range seats {
		sp.ev.waitFor(t, staff[i].seat, forward.EventConnection, `"connected"`, marks[i])
		// The primary's sessions ended with it: sign in again.
		var st struct{ SignedIn bool }
		sp.must(t, &st, "AuthState")
		if st.SignedIn {
			t.Fatalf("%s still signed in after the primary restarted", staff[i].seat)
		}
		sp.must(t, nil, "SignIn", staff[i].login, pw(staff[i].login))
		sp.must(t, nil, "Messages", conv.ID)
	}

	// Revoked from the primary's database (another program, as the CLI):
	// the seat is disconnected and its calls are refused.
	eng, err = engine.Open(ctx, pdir, kr)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := eng.Seats().Revoke(ctx, "staff:admin", "支店長席"); err != nil {
		t.Fatal(err)
	}
	eng.Close()
	eventually(t, "支店長席 refused", func() bool {
		_, code := seats[2].call(t, "Conversations")
		return code == msgcode.SeatRefused
	})
	seats[2].ev.waitFor(t, "支店長席", forward.EventConnection, `"refused"`, 0)
	seats[0].must(t, nil, "Conversations") // the others work on

	// After the session: nothing of the customer on any seat's disk.
	for _, sp := range seats {
		sp.stop()
	}
	// The saved export and the imported file are the person's choice: they
	// are in the folder the person chose (sp.files, checked above), not
	// scanned here; the seat's own folders hold none of it.
	secretsOnDisk := []string{custName, custPhone, strings.ReplaceAll(custPhone, "-", ""), said, sims[0].DisplayName, "担当の山田です",
		seatCustName, strings.ReplaceAll(seatCustPhone, "-", "")}
	for i, sp := range seats {
		// The keyring's folder too: it holds the seat's key, encrypted, and
		// nothing of the customer.
		for _, root := range []string{sp.dir, sp.tmp, sp.keys} {
			filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
				if err != nil || d.IsDir() || (root == sp.keys && !d.Type().IsRegular()) {
					return err
				}
				b, err := os.ReadFile(path)
				if err != nil {
					t.Errorf("%s: %v", path, err)
					return nil
				}
				for _, s := range secretsOnDisk {
					if bytes.Contains(b, []byte(s)) {
						t.Errorf("%s holds %q", path, s)
					}
				}
				if strings.HasSuffix(path, ".db") {
					t.Errorf("%s: a database on a seat", path)
				}
				return nil
			})
		}
		if _, err := os.Stat(filepath.Join(sp.dir, client.PairingFile)); err != nil {
			t.Errorf("%s: %v", staff[i].seat, err)
		}
	}
}
