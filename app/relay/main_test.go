package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"tsunagu/internal/relayclient"
)

// TestRelayLinksNoDesktopParts: the relay binary must not link Wails, GTK,
// the customer DB or the keychain; it only ever sees sealed bytes.
func TestRelayLinksNoDesktopParts(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, bad := range []string{"wails", "gtk", "tsunagu/internal/store", "tsunagu/internal/secrets", "go-keyring", "go-sqlite3"} {
		for dep := range strings.Lines(string(out)) {
			if strings.Contains(dep, bad) {
				t.Errorf("tsunagu-relay links %s (%s)", strings.TrimSpace(dep), bad)
			}
		}
	}
	if !strings.Contains(string(out), "tsunagu/internal/relay\n") {
		t.Fatal("go list output does not look like the relay's dependencies")
	}
}

func buildRelay(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "tsunagu-relay")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	return bin
}

// startRelay runs `serve` and returns the process and its base URL.
func startRelay(t *testing.T, bin, dataDir string, extra ...string) (*exec.Cmd, string) {
	t.Helper()
	p := runRelay(t, bin, dataDir, extra...)
	return p.cmd, p.base
}

type relayProc struct {
	cmd     *exec.Cmd
	base    string // http://127.0.0.1:PORT
	metrics string // host:port, if --metrics-listen was given
}

// runRelay runs `serve` on free loopback ports (public and, with
// --metrics-listen 127.0.0.1:0 in extra, metrics).
func runRelay(t *testing.T, bin, dataDir string, extra ...string) relayProc {
	t.Helper()
	args := []string{"serve", "--behind-proxy", "--listen", "127.0.0.1:0", "--data-dir", dataDir}
	if !slices.Contains(extra, "--metrics-listen") {
		args = append(args, "--metrics-listen", "")
	}
	cmd := exec.Command(bin, append(args, extra...)...)
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	addr, metrics := make(chan string, 1), make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		re := regexp.MustCompile(`^(listening|metrics) on (\S+)`)
		for sc.Scan() {
			if m := re.FindStringSubmatch(sc.Text()); m != nil {
				if m[1] == "listening" {
					addr <- m[2]
				} else {
					metrics <- m[2]
				}
			}
		}
	}()
	p := relayProc{cmd: cmd}
	select {
	case a := <-addr:
		p.base = "http://" + a
	case <-time.After(20 * time.Second):
		t.Fatal("relay did not start")
	}
	if slices.Contains(extra, "--metrics-listen") {
		select {
		case m := <-metrics:
			p.metrics = m
		case <-time.After(5 * time.Second):
			t.Fatal("relay metrics did not start")
		}
	}
	return p
}

func relayCmd(t *testing.T, bin string, args ...string) string {
	t.Helper()
	out, err := exec.Command(bin, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%v: %v\n%s", args, err, out)
	}
	return string(out)
}

// TestKill9AfterAckLosesNothing: a webhook the relay answered 200 for is
// on disk (fsynced) at that moment: SIGKILL right after the 200, restart
// on the same data folder, and the desktop still receives it.
func TestKill9AfterAckLosesNothing(t *testing.T) {
	bin := buildRelay(t)
	dir := t.TempDir()
	proc, base := startRelay(t, bin, dir)

	// The tenant commands reach the running relay's embedded NATS.
	out := relayCmd(t, bin, "tenant", "add", "本店", "--data-dir", dir)
	code := regexp.MustCompile(`code[^:]*: (\S+)`).FindStringSubmatch(out)
	if code == nil {
		t.Fatalf("no code in %q", out)
	}
	keys, _ := relayclient.GenerateKeys()
	ctx := context.Background()
	en, err := relayclient.Enroll(ctx, nil, base, code[1], keys, relayclient.HTTPLoopback)
	if err != nil {
		t.Fatal(err)
	}
	var list []map[string]any
	if err := json.Unmarshal([]byte(relayCmd(t, bin, "tenant", "list", "--json", "--data-dir", dir)), &list); err != nil || len(list) != 1 || list[0]["enrolled"] != true {
		t.Fatalf("tenant list: %v %v", list, err)
	}

	const n = 5
	for i := range n {
		body := []byte(`{"destination":"U1","events":[{"type":"message","webhookEventId":"E` + string(rune('0'+i)) + `"}]}`)
		mac := hmac.New(sha256.New, []byte("secret"))
		mac.Write(body)
		req, _ := http.NewRequest(http.MethodPost, en.WebhookURL, bytes.NewReader(body))
		req.Header.Set("X-Line-Signature", base64.StdEncoding.EncodeToString(mac.Sum(nil)))
		res, err := http.DefaultClient.Do(req)
		if err != nil || res.StatusCode != 200 {
			t.Fatalf("post %d: %v %v", i, res, err)
		}
		res.Body.Close()
	}
	// kill -9 immediately after the last 200: no graceful shutdown.
	proc.Process.Signal(syscall.SIGKILL)
	proc.Wait()

	_, base2 := startRelay(t, bin, dir)
	en.RelayURL = base2
	c, _ := relayclient.New(relayclient.Config{Enrollment: en, Keys: keys})
	var got []string
	dctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	if _, err := c.Drain(dctx, func(_ context.Context, body []byte, _ string) error {
		got = append(got, string(body))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(got) != n {
		t.Fatalf("after kill -9 and restart: %d of %d webhooks delivered", len(got), n)
	}
	for i, b := range got {
		if !strings.Contains(b, `"E`+string(rune('0'+i))+`"`) {
			t.Fatalf("order: %v", got)
		}
	}
}
