//go:build windowtest && linux

package windowtest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"image/png"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"

	"tsunagu/internal/engine"
)

// Where the screenshots go (the repository's test-artifacts/window).
var artifacts = filepath.Join("..", "..", "..", "test-artifacts", "window")

const (
	staffLogin    = "tanaka"
	staffPassword = "correct horse battery 1"
	// The window's Japanese notification (frontend/src/i18n/ja/app.ts, desktopNotify).
	wantTitle = "つなぐ"
)

var wantBody = regexp.MustCompile(`^新しいメッセージ（(\d+) 件）$`)

// TestNativeNotification runs the real desktop binary (Wails, WebKitGTK)
// under Xvfb on the keyring session's D-Bus, signs in through the keyboard,
// puts the window in the background and has a simulated customer write
// (the sandbox's control API). It shows that:
//   - with no notification daemon on the bus, the window's Notify call gets
//     D-Bus's ServiceUnknown and the window carries on;
//   - with one, the next message is announced through
//     org.freedesktop.Notifications with the title and the unread count
//     only: no customer's name, no message text.
//
// TSUNAGU_DESKTOP and TSUNAGU_CLI point at the built binaries (make test).
func TestNativeNotification(t *testing.T) {
	bin, cli := os.Getenv("TSUNAGU_DESKTOP"), os.Getenv("TSUNAGU_CLI")
	if bin == "" || cli == "" {
		t.Fatal("TSUNAGU_DESKTOP and TSUNAGU_CLI must name the built desktop and CLI binaries (make test sets them); refusing to skip")
	}
	if os.Getenv("DBUS_SESSION_BUS_ADDRESS") == "" {
		t.Fatal("no session bus: run inside .ci/keyring-session")
	}
	if err := os.MkdirAll(artifacts, 0o755); err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(t.TempDir(), "data")

	// The data folder and its administrator, made by the CLI as IT would.
	runCLI(t, cli, data, "", "init")
	runCLI(t, cli, data, "田中 支店長\n"+staffPassword+"\n", "staff", "add", staffLogin, "admin")

	// Someone watching the bus sees the window's Notify calls and the answers.
	mon := monitorNotify(t)

	dpy := startXvfb(t)
	x, err := openDisplay(dpy)
	if err != nil {
		t.Fatal(err)
	}
	defer x.close()
	app := startApp(t, bin, dpy, data)

	// The control file appears once the engine runs in sandbox mode.
	var ctl engine.SandboxControlInfo
	waitUntil(t, app, 30*time.Second, "the sandbox control file", func() bool {
		raw, err := os.ReadFile(filepath.Join(data, engine.SandboxControlFile))
		return err == nil && json.Unmarshal(raw, &ctl) == nil && ctl.URL != ""
	})
	// The sign-in form has painted (many colours, not a blank frame).
	shot := filepath.Join(t.TempDir(), "probe.png")
	waitUntil(t, app, 30*time.Second, "the sign-in form to paint", func() bool {
		return screenshot(dpy, shot) == nil && colours(shot) > 400
	})
	time.Sleep(time.Second)

	// Sign in with the keyboard: the window is in front (the pointer is in
	// it), a click on the page's background gives it the keyboard, Tab
	// reaches the login field first.
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
	mustShot(t, dpy, "notify-signed-in.png")

	// Another program takes the keyboard: the window is in the background.
	x.move(2, 2)
	x.focusNone()

	customers := simCustomers(t, ctl)
	var sent []string
	say := func() {
		c := customers[len(sent)%len(customers)]
		text := fmt.Sprintf("住所変更の手続きを教えてください（%d）", len(sent)+1)
		simSend(t, ctl, c.UserID, text)
		sent = append(sent, text)
	}

	// 1. No notification daemon: the call reaches the bus and is refused;
	// the window keeps running. Customers write until the window has
	// signed in and loaded the inbox (a rise of the unread count counts).
	var refused *dbus.Message
	waitUntil(t, app, 40*time.Second, "a Notify call from the window (with no daemon)", func() bool {
		say()
		deadline := time.After(2 * time.Second)
		for {
			select {
			case m := <-mon.errors:
				refused = m
				return true
			case <-deadline:
				return false
			}
		}
	})
	if refused.Headers[dbus.FieldErrorName].Value() != "org.freedesktop.DBus.Error.ServiceUnknown" {
		t.Fatalf("with no daemon the Notify call got %v, want ServiceUnknown", refused.Headers[dbus.FieldErrorName])
	}
	time.Sleep(time.Second)
	if !app.running() {
		t.Fatalf("the window exited after a refused notification:\n%s", app.log())
	}

	// 2. A notification daemon comes (a desktop session's): the next
	// message is shown through it.
	d := startNotifyDaemon(t)
	say()
	var got notification
	select {
	case got = <-d.calls:
	case <-time.After(10 * time.Second):
		mustShot(t, dpy, "notify-missing.png")
		t.Fatalf("no notification reached the daemon within 10 s of a new message (window in the background); app log:\n%s", app.log())
	}
	time.Sleep(time.Second) // the list has refreshed too
	mustShot(t, dpy, "notify-background.png")

	if got.AppName != filepath.Base(bin) || got.Summary != wantTitle {
		t.Fatalf("notification from %q titled %q, want %q from %q", got.AppName, got.Summary, wantTitle, filepath.Base(bin))
	}
	m := wantBody.FindStringSubmatch(got.Body)
	if m == nil {
		t.Fatalf("notification body %q, want the unread count only (%s)", got.Body, wantBody)
	}
	// Every message is still unread: the count is that of the messages
	// the inbox has seen, at least one.
	if n, _ := strconv.Atoi(m[1]); n < 1 || n > len(sent) {
		t.Fatalf("notification counts %d unread, %d messages were sent", n, len(sent))
	}
	for _, c := range customers {
		if strings.Contains(got.Summary+got.Body, c.DisplayName) {
			t.Fatalf("the notification names the customer %q", c.DisplayName)
		}
	}
	for _, s := range sent {
		if strings.Contains(got.Summary+got.Body, s) {
			t.Fatal("the notification quotes the message")
		}
	}
	if id, _ := got.Hints["x-notification-id"].Value().(string); id != "tsunagu-unread" {
		t.Fatalf("notification id hint %v, want tsunagu-unread", got.Hints["x-notification-id"])
	}
	if !app.running() {
		t.Fatalf("the window exited:\n%s", app.log())
	}
}

// --- the programs ---

func runCLI(t *testing.T, cli, data, stdin string, args ...string) {
	t.Helper()
	cmd := exec.Command(cli, append([]string{"--data-dir", data}, args...)...)
	cmd.Stdin = strings.NewReader(stdin)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("tsunagu-cli %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// startXvfb starts an X server on a free display (it picks the number) and
// returns its name.
func startXvfb(t *testing.T) string {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	cmd := exec.Command("Xvfb", "-displayfd", "3", "-screen", "0", "1440x900x24", "-nolisten", "tcp")
	cmd.ExtraFiles = []*os.File{w}
	if err := cmd.Start(); err != nil {
		t.Fatalf("Xvfb: %v", err)
	}
	w.Close()
	t.Cleanup(func() { stop(cmd) })
	line := make(chan string, 1)
	go func() {
		s, _ := bufio.NewReader(r).ReadString('\n')
		line <- strings.TrimSpace(s)
	}()
	select {
	case n := <-line:
		if n == "" {
			t.Fatal("Xvfb printed no display number")
		}
		return ":" + n
	case <-time.After(15 * time.Second):
		t.Fatal("Xvfb did not start within 15 s")
	}
	return ""
}

type appProc struct {
	cmd  *exec.Cmd
	out  *lockedBuffer
	done chan struct{}
}

func (a *appProc) running() bool {
	select {
	case <-a.done:
		return false
	default:
		return true
	}
}

func (a *appProc) log() string { return a.out.String() }

// startApp starts the desktop window on the data folder with the sandbox's
// control API open (TSUNAGU_SANDBOX_CONTROL).
func startApp(t *testing.T, bin, dpy, data string) *appProc {
	t.Helper()
	cmd := exec.Command(bin)
	out := &lockedBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	cmd.Env = append(os.Environ(),
		"DISPLAY="+dpy,
		"TSUNAGU_DATA_DIR="+data,
		"TSUNAGU_SANDBOX_CONTROL=1",
		"WEBKIT_DISABLE_DMABUF_RENDERER=1",
		"LIBGL_ALWAYS_SOFTWARE=1",
	)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	a := &appProc{cmd: cmd, out: out, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(a.done) }()
	t.Cleanup(func() {
		if a.running() {
			_ = cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-a.done:
			case <-time.After(5 * time.Second):
				_ = cmd.Process.Kill()
				<-a.done
			}
		}
	})
	return a
}

func stop(cmd *exec.Cmd) {
	_ = cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		_ = cmd.Process.Kill()
		<-done
	}
}

// waitUntil polls cond every half second; it fails early if the app exited.
func waitUntil(t *testing.T, app *appProc, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if !app.running() {
			t.Fatalf("the window exited while waiting for %s:\n%s", what, app.log())
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v; app log:\n%s", what, d, app.log())
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// --- screenshots ---

func screenshot(dpy, path string) error {
	return exec.Command("import", "-display", dpy, "-window", "root", path).Run()
}

func mustShot(t *testing.T, dpy, name string) {
	t.Helper()
	if err := screenshot(dpy, filepath.Join(artifacts, name)); err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
}

// colours counts the distinct colours of a PNG (0 if unreadable).
func colours(path string) int {
	f, err := os.Open(path)
	if err != nil {
		return 0
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		return 0
	}
	seen := map[[3]uint32]bool{}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y += 2 {
		for x := b.Min.X; x < b.Max.X; x += 2 {
			r, g, bl, _ := img.At(x, y).RGBA()
			seen[[3]uint32{r, g, bl}] = true
		}
	}
	return len(seen)
}

// --- the sandbox's simulated customers ---

type simCustomer struct {
	UserID      string `json:"userId"`
	DisplayName string `json:"displayName"`
}

func ctlRequest(t *testing.T, ctl engine.SandboxControlInfo, method, path string, body any, out any) {
	t.Helper()
	var rd *bytes.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	} else {
		rd = bytes.NewReader(nil)
	}
	req, err := http.NewRequest(method, ctl.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+ctl.Token)
	res, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("%s %s: %s", method, path, res.Status)
	}
	if out != nil {
		if err := json.NewDecoder(res.Body).Decode(out); err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
	}
}

func simCustomers(t *testing.T, ctl engine.SandboxControlInfo) []simCustomer {
	var cs []simCustomer
	ctlRequest(t, ctl, "GET", "/customers", nil, &cs)
	if len(cs) == 0 {
		t.Fatal("the sandbox has no simulated customers")
	}
	return cs
}

func simSend(t *testing.T, ctl engine.SandboxControlInfo, userID, text string) {
	ctlRequest(t, ctl, "POST", "/send", map[string]string{"userId": userID, "text": text}, nil)
}

// --- D-Bus ---

const notifyName = "org.freedesktop.Notifications"

type busMonitor struct{ errors chan *dbus.Message }

// monitorNotify watches the session bus for the answers to Notify calls
// that no daemon took: the bus's own errors to a call for notifyName.
func monitorNotify(t *testing.T) *busMonitor {
	t.Helper()
	conn, err := dbus.ConnectSessionBus()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	// The serials of the Notify calls, to find the errors that answer them.
	rules := []string{
		"type='method_call',interface='" + notifyName + "',member='Notify'",
		"type='error'",
	}
	if err := conn.BusObject().Call("org.freedesktop.DBus.Monitoring.BecomeMonitor", 0, rules, uint32(0)).Err; err != nil {
		t.Fatalf("BecomeMonitor: %v", err)
	}
	ch := make(chan *dbus.Message, 64)
	conn.Eavesdrop(ch)
	m := &busMonitor{errors: make(chan *dbus.Message, 8)}
	go func() {
		calls := map[string]bool{} // sender/serial of Notify calls
		for msg := range ch {
			sender, _ := msg.Headers[dbus.FieldSender].Value().(string)
			switch msg.Type {
			case dbus.TypeMethodCall:
				calls[sender+"/"+strconv.FormatUint(uint64(msg.Serial()), 10)] = true
			case dbus.TypeError:
				dest, _ := msg.Headers[dbus.FieldDestination].Value().(string)
				serial, _ := msg.Headers[dbus.FieldReplySerial].Value().(uint32)
				if calls[dest+"/"+strconv.FormatUint(uint64(serial), 10)] {
					select {
					case m.errors <- msg:
					default:
					}
				}
			}
		}
	}()
	return m
}

type notification struct {
	AppName string
	Summary string
	Body    string
	Hints   map[string]dbus.Variant
}

// notifyDaemon is a notification server as a desktop session runs one: it
// owns notifyName and records what it is asked to show.
type notifyDaemon struct {
	mu    sync.Mutex
	next  uint32
	calls chan notification
}

func (d *notifyDaemon) Notify(appName string, replacesID uint32, icon, summary, body string, actions []string,
	hints map[string]dbus.Variant, timeout int32) (uint32, *dbus.Error) {
	d.mu.Lock()
	d.next++
	id := d.next
	d.mu.Unlock()
	select {
	case d.calls <- notification{AppName: appName, Summary: summary, Body: body, Hints: hints}:
	default:
	}
	return id, nil
}

func (d *notifyDaemon) GetCapabilities() ([]string, *dbus.Error) {
	return []string{"body", "actions"}, nil
}

func (d *notifyDaemon) GetServerInformation() (string, string, string, string, *dbus.Error) {
	return "windowtest", "tsunagu", "1", "1.2", nil
}

func (d *notifyDaemon) CloseNotification(uint32) *dbus.Error { return nil }

func startNotifyDaemon(t *testing.T) *notifyDaemon {
	t.Helper()
	conn, err := dbus.ConnectSessionBus()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	d := &notifyDaemon{calls: make(chan notification, 8)}
	if err := conn.Export(d, "/org/freedesktop/Notifications", notifyName); err != nil {
		t.Fatal(err)
	}
	reply, err := conn.RequestName(notifyName, dbus.NameFlagDoNotQueue)
	if err != nil || reply != dbus.RequestNameReplyPrimaryOwner {
		t.Fatalf("could not own %s (reply %v, %v): does another notification daemon run on this bus?", notifyName, reply, err)
	}
	return d
}

// lockedBuffer collects a process's output from two pipes at once.
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
