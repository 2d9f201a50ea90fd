//go:build windowtest && linux

package windowtest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/http/cookiejar"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
	"unicode/utf16"
)

// The customer the seat window shows; none of it may stay on the seat PC.
const (
	seatCustName  = "鈴木 一郎"
	seatCustPhone = "090-3141-5926"
	seatSaid      = "定期預金の満期について相談したいです"
	seatName      = "窓口2"
)

// TestSeatWindowKeepsNothing runs the real desktop binary as a seat (子機)
// under Xvfb: a primary (the dev server with its seat port on loopback,
// sandbox LINE) holds a customer with a phone number and a conversation; a
// seat folder paired with `tsunagu-cli seat pair` opens the seat window,
// which signs in through the keyboard and opens the conversation and the
// customer's card (the primary's presence and audit trail show that it
// did). While it runs, WebKitGTK keeps its profile in the run's folder
// under TMPDIR (webviewEnv); the window is then closed as a logout does
// (SIGTERM), and the seat's data folder, TMPDIR, the XDG folders it was
// given and $HOME are scanned for the customer's name, phone number and
// the message, in UTF-8 and UTF-16 (WebKit's storage): none may be there,
// and the run's WebView folder must be gone.
//
// TSUNAGU_DESKTOP, TSUNAGU_CLI and TSUNAGU_DEVSERVER point at the built
// binaries (make test).
func TestSeatWindowKeepsNothing(t *testing.T) {
	bin, cli, devserver := os.Getenv("TSUNAGU_DESKTOP"), os.Getenv("TSUNAGU_CLI"), os.Getenv("TSUNAGU_DEVSERVER")
	if bin == "" || cli == "" || devserver == "" {
		t.Fatal("TSUNAGU_DESKTOP, TSUNAGU_CLI and TSUNAGU_DEVSERVER must name the built binaries (make test sets them); refusing to skip")
	}
	if os.Getenv("DBUS_SESSION_BUS_ADDRESS") == "" {
		t.Fatal("no session bus: run inside .ci/keyring-session")
	}
	if err := os.MkdirAll(artifacts, 0o755); err != nil {
		t.Fatal(err)
	}
	started := time.Now()
	base := t.TempDir()

	// The primary: the first administrator, one imported customer with a
	// phone number, a simulated customer's message.
	pdir := filepath.Join(base, "primary")
	p := startPrimary(t, devserver, pdir, filepath.Join(base, "static"))
	p.must(t, nil, "CreateFirstAdmin", staffLogin, "田中 支店長", staffPassword)
	csv := filepath.Join(base, "customers.csv")
	if err := os.WriteFile(csv, []byte("顧客番号,氏名,電話番号,店番\nK1,"+seatCustName+","+seatCustPhone+",001\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	p.must(t, nil, "RunImport", map[string]any{"path": csv})
	var sims []struct{ UserID, DisplayName string }
	p.must(t, &sims, "SandboxCustomers")
	if len(sims) == 0 {
		t.Fatal("the sandbox has no simulated customers")
	}
	p.must(t, nil, "SandboxSend", sims[0].UserID, seatSaid)
	convID := p.conversationOf(t, sims[0].UserID)

	// The seat: a folder of its own, paired by the CLI; a home, a temp
	// folder and XDG folders of its own, to be scanned afterwards.
	var code struct{ Code string }
	if err := json.Unmarshal(cliOutput(t, cli, "", "seat", "code", seatName, "--json", "--data-dir", pdir), &code); err != nil || code.Code == "" {
		t.Fatalf("seat code: %v", err)
	}
	sdir := filepath.Join(base, "seat")
	cliOutput(t, cli, code.Code+"\n", "seat", "pair", "--primary", p.seatAddr, "--fingerprint", p.fingerprint, "--data-dir", sdir)
	home, tmp := filepath.Join(base, "seat-home"), filepath.Join(base, "seat-tmp")
	xdg := map[string]string{}
	for _, k := range []string{"XDG_DATA_HOME", "XDG_CACHE_HOME", "XDG_CONFIG_HOME", "XDG_STATE_HOME"} {
		xdg[k] = filepath.Join(base, "seat-xdg", strings.ToLower(strings.TrimPrefix(k, "XDG_")))
	}
	for _, d := range append([]string{home, tmp}, values(xdg)...) {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}

	dpy := startXvfb(t)
	x, err := openDisplay(dpy)
	if err != nil {
		t.Fatal(err)
	}
	defer x.close()
	env := []string{"HOME=" + home, "TMPDIR=" + tmp, "TSUNAGU_DATA_DIR=" + sdir}
	for k, v := range xdg {
		env = append(env, k+"="+v)
	}
	app := startAppEnv(t, bin, dpy, env)

	shot := filepath.Join(base, "probe.png")
	waitUntil(t, app, 60*time.Second, "the seat's sign-in form to paint", func() bool {
		return screenshot(dpy, shot) == nil && colours(shot) > 400
	})
	time.Sleep(time.Second)
	// The WebView's profile is in this run's folder under TMPDIR.
	webviews, _ := filepath.Glob(filepath.Join(tmp, "tsunagu-seat-webview-*"))
	if len(webviews) != 1 {
		t.Fatalf("the seat window's WebView folders under TMPDIR: %v (want one)", webviews)
	}

	// Sign in with the keyboard (as TestNativeNotification does).
	x.focusPointer()
	x.move(720, 110)
	x.click()
	for _, step := range []func() error{
		func() error { return x.key("Tab") },
		func() error { return x.typeText(staffLogin) },
		func() error { return x.key("Tab") },
		func() error { return x.typeText(staffPassword) },
		func() error { return x.key("Return") },
	} {
		if err := step(); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(3 * time.Second)
	mustShot(t, dpy, "seat-signed-in.png")

	// The window is centred on the 1440×900 screen at its default size
	// (1360×860): its page starts at (40, 20).
	// The conversation: the inbox's first row, until the primary sees the
	// seat in it (presence names who has it open).
	waitUntil(t, app, 40*time.Second, "the seat to open the conversation (the primary's presence)", func() bool {
		x.move(300, 320)
		x.click()
		time.Sleep(2 * time.Second)
		var people []struct{ Name string }
		p.must(t, &people, "ViewConversation", convID)
		return len(people) > 0
	})
	time.Sleep(2 * time.Second)
	mustShot(t, dpy, "seat-conversation.png")

	// The customer: 顧客 in the rail, the first row, until the primary's
	// audit trail has the seat's view of the card.
	waitUntil(t, app, 40*time.Second, "the seat to open the customer (customer.view on the primary)", func() bool {
		x.move(83, 192)
		x.click()
		time.Sleep(2 * time.Second)
		mustShot(t, dpy, "seat-customers.png")
		x.move(373, 285)
		x.click()
		time.Sleep(2 * time.Second)
		return p.seatViewedCustomer(t)
	})
	time.Sleep(2 * time.Second)
	mustShot(t, dpy, "seat-customer.png")

	// WebKitGTK wrote its profile into the run's folder, not into the XDG
	// folders the seat was started with (those are scanned below).
	during := listFiles(webviews[0])
	if len(during) == 0 {
		t.Fatalf("nothing in the run's WebView folder %s: WebKitGTK keeps its profile elsewhere", webviews[0])
	}
	t.Logf("the WebView folder during the session: %v; customer data in it: %v", during, findIn(webviews[0], time.Time{}, secretsOf(sims[0].DisplayName)))

	// WebKit's own processes: they must not outlive the window (they
	// could write the profile again after its folder was removed).
	ps, _ := exec.Command("ps", "-o", "pid=,comm=", "--ppid", fmt.Sprint(app.cmd.Process.Pid)).CombinedOutput()
	t.Logf("the window's processes:\n%s", ps)
	var kids []string
	for _, l := range strings.Split(strings.TrimSpace(string(ps)), "\n") {
		if f := strings.Fields(l); len(f) > 0 {
			kids = append(kids, f[0])
		}
	}
	// Closed as a logout closes it.
	if err := app.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-app.done:
	case <-time.After(30 * time.Second):
		t.Fatalf("the seat window did not close within 30 s of SIGTERM:\n%s", app.log())
	}
	for _, pid := range kids {
		waitGone(t, pid)
	}
	if webviews, _ := filepath.Glob(filepath.Join(tmp, "tsunagu-seat-webview-*")); len(webviews) != 0 {
		t.Fatalf("the run's WebView folder outlived the window: %v holds %v", webviews, listFiles(webviews[0]))
	}

	// The scan finds what it looks for (a canary in UTF-16, as WebKit's
	// local storage keeps text).
	canary := filepath.Join(base, "canary")
	os.MkdirAll(canary, 0o700)
	os.WriteFile(filepath.Join(canary, "x"), append([]byte("x"), utf16Bytes(seatCustName, false)...), 0o600)
	if got := findIn(canary, time.Time{}, secretsOf(sims[0].DisplayName)); len(got) != 1 {
		t.Fatalf("the scan does not find a UTF-16 name: %v", got)
	}

	roots := append([]string{sdir, tmp, home}, values(xdg)...)
	for _, root := range roots {
		for _, f := range findIn(root, time.Time{}, secretsOf(sims[0].DisplayName)) {
			t.Error(f)
		}
	}
	// Anywhere else a GLib program might put a file: only what this run wrote.
	for _, f := range findIn("/var/tmp", started, secretsOf(sims[0].DisplayName)) {
		t.Error(f)
	}
	t.Logf("seat folder: %v", listFiles(sdir))
}

// --- the primary (the dev server) ---

type primaryProc struct {
	url, seatAddr, fingerprint string
	http                       *http.Client
	app                        *appProc
}

// startPrimary starts the dev server on dir with its seat port on a free
// loopback port, and waits for its LISTEN and SEATS lines.
func startPrimary(t *testing.T, bin, dir, static string) *primaryProc {
	t.Helper()
	if err := os.MkdirAll(static, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "--listen", "127.0.0.1:0", "--static", static, "--data-dir", dir, "--seat-listen", "127.0.0.1:0", "--cheap-kdf")
	out := &lockedBuffer{}
	cmd.Stderr = out
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	a := &appProc{cmd: cmd, out: out, done: make(chan struct{})}
	lines := make(chan string, 16)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			out.Write([]byte(sc.Text() + "\n"))
			select {
			case lines <- sc.Text():
			default:
			}
		}
		_ = cmd.Wait()
		close(a.done)
	}()
	t.Cleanup(func() { stop(cmd) })
	jar, _ := cookiejar.New(nil)
	p := &primaryProc{http: &http.Client{Jar: jar, Timeout: 60 * time.Second}, app: a}
	deadline := time.After(60 * time.Second)
	for p.url == "" || p.seatAddr == "" {
		select {
		case l := <-lines:
			if u, ok := strings.CutPrefix(l, "LISTEN "); ok {
				p.url = strings.TrimSpace(u)
			}
			if f := strings.Fields(l); len(f) == 3 && f[0] == "SEATS" {
				p.seatAddr, p.fingerprint = f[1], f[2]
			}
		case <-a.done:
			t.Fatalf("the primary exited:\n%s", out.String())
		case <-deadline:
			t.Fatalf("the primary printed no LISTEN and SEATS lines within 60 s:\n%s", out.String())
		}
	}
	return p
}

// must calls a bound method on the primary (the dev bridge's /api/call).
func (p *primaryProc) must(t *testing.T, out any, method string, args ...any) {
	t.Helper()
	if args == nil {
		args = []any{}
	}
	body, _ := json.Marshal(args)
	res, err := p.http.Post(p.url+"/api/call/"+method, "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatalf("%s: %v", method, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("%s: %s %s", method, res.Status, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s: %v: %s", method, err, b)
		}
	}
}

// conversationOf waits for the simulated customer's conversation.
func (p *primaryProc) conversationOf(t *testing.T, userID string) int64 {
	t.Helper()
	var id int64
	waitUntil(t, p.app, 30*time.Second, "the simulated customer's conversation on the primary", func() bool {
		var convs []struct {
			ID         int64
			LineUserID string `json:"lineUserId"`
		}
		p.must(t, &convs, "Conversations")
		for _, c := range convs {
			if c.LineUserID == userID {
				id = c.ID
				return true
			}
		}
		return false
	})
	return id
}

// seatViewedCustomer: the primary's audit trail has the seat's view of a
// customer card (customer.view, naming the seat).
func (p *primaryProc) seatViewedCustomer(t *testing.T) bool {
	t.Helper()
	var rep struct {
		Entries []json.RawMessage
	}
	p.must(t, &rep, "AuditEntries", map[string]any{"action": "customer.view", "limit": 50})
	for _, e := range rep.Entries {
		if strings.Contains(string(e), seatName) {
			return true
		}
	}
	return false
}

// --- the seat window ---

// startAppEnv starts the desktop window with env added (its data folder,
// home, temp and XDG folders).
func startAppEnv(t *testing.T, bin, dpy string, env []string) *appProc {
	t.Helper()
	cmd := exec.Command(bin)
	out := &lockedBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	cmd.Env = append(append(os.Environ(),
		"DISPLAY="+dpy,
		"WEBKIT_DISABLE_DMABUF_RENDERER=1",
		"LIBGL_ALWAYS_SOFTWARE=1",
	), env...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	a := &appProc{cmd: cmd, out: out, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(a.done) }()
	t.Cleanup(func() {
		if a.running() {
			_ = cmd.Process.Kill()
			<-a.done
		}
	})
	return a
}

func cliOutput(t *testing.T, cli, stdin string, args ...string) []byte {
	t.Helper()
	cmd := exec.Command(cli, args...)
	cmd.Stdin = strings.NewReader(stdin)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("tsunagu-cli %s: %v\n%s%s", strings.Join(args, " "), err, out, stderr.Bytes())
	}
	return out
}

// --- the scan ---

// secretsOf is what the seat showed and must not keep: the customer's
// name, phone number (with and without hyphens), the message and the
// simulated LINE user's name.
func secretsOf(lineName string) []string {
	return []string{seatCustName, seatCustPhone, strings.ReplaceAll(seatCustPhone, "-", ""), seatSaid, lineName}
}

// findIn lists the files under root (changed after since, if given) that
// hold one of secrets in UTF-8 or UTF-16 (little or big endian).
func findIn(root string, since time.Time, secrets []string) []string {
	var needles [][]byte
	for _, s := range secrets {
		needles = append(needles, []byte(s), utf16Bytes(s, false), utf16Bytes(s, true))
	}
	var found []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if d == nil || os.IsPermission(err) {
				return nil // /var/tmp holds other users' folders
			}
			return err
		}
		if !d.Type().IsRegular() {
			return nil
		}
		info, err := d.Info()
		if err != nil || (!since.IsZero() && info.ModTime().Before(since)) {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return nil // gone meanwhile, or another user's
		}
		for i, n := range needles {
			if bytes.Contains(b, n) {
				found = append(found, fmt.Sprintf("%s holds %q (%s)", path, secrets[i/3], [...]string{"UTF-8", "UTF-16LE", "UTF-16BE"}[i%3]))
			}
		}
		return nil
	})
	if err != nil && !os.IsNotExist(err) {
		found = append(found, fmt.Sprintf("scanning %s: %v", root, err))
	}
	return found
}

func utf16Bytes(s string, bigEndian bool) []byte {
	var b []byte
	for _, u := range utf16.Encode([]rune(s)) {
		if bigEndian {
			b = append(b, byte(u>>8), byte(u))
		} else {
			b = append(b, byte(u), byte(u>>8))
		}
	}
	return b
}

// waitGone waits up to 30 s for the process pid to be gone (or a zombie,
// which writes nothing).
func waitGone(t *testing.T, pid string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		b, err := os.ReadFile("/proc/" + pid + "/stat")
		if err != nil {
			return
		}
		if i := bytes.LastIndexByte(b, ')'); i > 0 && bytes.HasPrefix(bytes.TrimSpace(b[i+1:]), []byte("Z")) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the WebView's process %s outlived the window by 30 s: %s", pid, b)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func listFiles(root string) []string {
	var out []string
	_ = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(root, path)
			out = append(out, rel)
		}
		return nil
	})
	return out
}

func values(m map[string]string) []string {
	var out []string
	for _, v := range m {
		out = append(out, v)
	}
	return out
}
