package engine

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"image"
	"image/color"
	"image/png"
	"io"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"tsunagu/internal/audit"
	"tsunagu/internal/autoreply"
	"tsunagu/internal/inbox"
	"tsunagu/internal/linesim"
	"tsunagu/internal/secrets/secretstest"
)

// In sandbox mode the engine wires the auto-replies into the inbox and
// hosts image replies itself over loopback HTTPS, where the image can be
// fetched at the URL the simulator received.
func TestSandboxAutoReplyAndImageHost(t *testing.T) {
	kr := secretstest.Keyring(t)
	dir := filepath.Join(t.TempDir(), "data")
	secretstest.CleanupDataDir(t, kr, dir)
	ctx := context.Background()
	eng, err := Start(ctx, Options{DataDir: dir, Keyring: kr, Clock: time.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	cust := eng.Sim().Customers()[0]
	if _, err := eng.AutoReply().SaveRule(ctx, audit.StaffActor("admin"), autoreply.Rule{Keyword: "営業時間", Match: autoreply.MatchContains, Reply: "平日9時〜15時です。", Enabled: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := eng.Sim().SendText(ctx, cust.UserID, "営業時間を教えて"); err != nil {
		t.Fatal(err)
	}
	// Hook replies leave the webhook path: the send queue delivers them.
	eventually(t, 10*time.Second, "auto-reply", func() bool { return len(eng.Sim().Deliveries(cust.UserID)) > 0 })
	ds := eng.Sim().Deliveries(cust.UserID)
	if len(ds) != 1 || ds[0].Text != "平日9時〜15時です。" || ds[0].Via != linesim.ViaReply {
		t.Fatalf("auto-reply deliveries %+v", ds)
	}

	img := image.NewRGBA(image.Rect(0, 0, 320, 200))
	for x := range 320 {
		img.Set(x, x%200, color.RGBA{200, 30, 30, 255})
	}
	var buf bytes.Buffer
	png.Encode(&buf, img)
	convs, _ := eng.Inbox().Conversations(ctx)
	m, err := eng.Inbox().ReplyImage(ctx, convs[0].ID, inbox.Actor{Audit: audit.StaffActor("tanaka"), Name: "田中"}, buf.Bytes())
	if err != nil || m.Status != "sent" {
		t.Fatalf("image reply %+v %v", m, err)
	}
	ds = eng.Sim().Deliveries(cust.UserID)
	var obj struct{ OriginalContentURL, PreviewImageURL string }
	var raw map[string]string
	json.Unmarshal(ds[len(ds)-1].Message, &raw)
	obj.OriginalContentURL, obj.PreviewImageURL = raw["originalContentUrl"], raw["previewImageUrl"]
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}} // the sandbox's self-signed certificate
	for url, want := range map[string]string{obj.OriginalContentURL: "image/png", obj.PreviewImageURL: "image/jpeg"} {
		res, err := hc.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != 200 || res.Header.Get("Content-Type") != want || len(body) == 0 {
			t.Fatalf("%s: %d %s", url, res.StatusCode, res.Header.Get("Content-Type"))
		}
	}
	if res, err := hc.Get(obj.OriginalContentURL + "x"); err != nil || res.StatusCode != 404 {
		t.Fatalf("guessed URL: %v %v", res, err)
	}
}
