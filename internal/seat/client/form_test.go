package client_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"net"
	"path/filepath"
	"testing"
	"time"

	"tsunagu/internal/datadir"
	"tsunagu/internal/fielderr"
	"tsunagu/internal/seat"
	"tsunagu/internal/seat/client"
	"tsunagu/internal/seat/primary"
	"tsunagu/internal/secrets"
	"tsunagu/internal/secrets/secretstest"
	"tsunagu/internal/store/storetest"
)

func fieldOf(t *testing.T, err error) fielderr.FieldError {
	t.Helper()
	fs := fielderr.Fields(err)
	if len(fs) != 1 {
		t.Fatalf("want one wrong field, got %v (%v)", fs, err)
	}
	return fs[0]
}

func TestFormErrorFields(t *testing.T) {
	for _, c := range []struct {
		err         error
		field, code string
	}{
		{seat.ErrCodeUsed, "code", fielderr.Refused},
		{seat.ErrCodeExpired, "code", fielderr.Refused},
		{seat.ErrPairingPaused, "code", fielderr.Refused},
		{client.ErrFingerprintMismatch, "addr", fielderr.NotPrimary},
		{seat.ErrWrongPrimary, "addr", fielderr.NotPrimary},
	} {
		err := client.FormError(c.err)
		if f := fieldOf(t, err); f.Field != c.field || f.Code != c.code || !errors.Is(err, c.err) {
			t.Errorf("%v: %+v", c.err, f)
		}
	}
	if err := client.FormError(errors.New("disk full")); fielderr.Fields(err) != nil {
		t.Errorf("another failure got a field: %v", err)
	}
}

func TestParseAddrAndCode(t *testing.T) {
	for in, want := range map[string]string{
		"192.168.1.20":        "192.168.1.20:7443",
		" 192.168.1.20:8443 ": "192.168.1.20:8443",
		"１９２.１６８.１.２０":        "192.168.1.20:7443",
		"madoguchi-pc":        "madoguchi-pc:7443",
		"fd00::1":             "[fd00::1]:7443",
		"[fd00::1]:9000":      "[fd00::1]:9000",
	} {
		got, err := client.ParseAddr(in)
		if err != nil || got != want {
			t.Errorf("ParseAddr(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for in, code := range map[string]string{"": fielderr.Required, "192.168.1.20:99999": fielderr.Format, "http://x/y": fielderr.Format, "a b": fielderr.Format} {
		_, err := client.ParseAddr(in)
		if f := fieldOf(t, err); f.Field != "addr" || f.Code != code || !errors.Is(err, client.ErrBadAddress) {
			t.Errorf("ParseAddr(%q): %+v %v", in, f, err)
		}
	}
	for _, ok := range []string{"7KQ2M-XH4PB", "7kq2mxh4pb", "７ＫＱ２Ｍ－ＸＨ４ＰＢ", " 7KQ2M XH4PB "} {
		if err := client.CheckCode(ok); err != nil {
			t.Errorf("CheckCode(%q): %v", ok, err)
		}
	}
	_, err := client.CheckForm("999.1.1.1:99999", "7KQ2M")
	if fs := fielderr.Fields(err); len(fs) != 2 || fs[0].Field != "addr" || fs[1].Field != "code" || !errors.Is(err, client.ErrBadAddress) {
		t.Errorf("both wrong: %+v %v", fs, err)
	}
	if hp, err := client.CheckForm("192.168.1.20", "7KQ2M-XH4PB"); err != nil || hp != "192.168.1.20:7443" {
		t.Errorf("CheckForm = %q %v", hp, err)
	}
	for in, code := range map[string]string{"": fielderr.Required, "7KQ2M": fielderr.Format, "7KQ2M-XH4P!": fielderr.Format} {
		if f := fieldOf(t, client.CheckCode(in)); f.Field != "code" || f.Code != code {
			t.Errorf("CheckCode(%q): %+v", in, f)
		}
	}
}

// Probe shows the real primary's fingerprint; nothing listening, or
// something that is not a seat port, is an error on the address field; a
// refused code is an error on the code field.
func TestProbeAndFormErrors(t *testing.T) {
	ctx := context.Background()
	_, k, _ := ed25519.GenerateKey(rand.Reader)
	id, err := seat.NewIdentity(k, "primary", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	reg := primary.NewRegistry(storetest.New(t), nil)
	srv := primary.NewServer(primary.Config{Registry: reg, Identity: id})
	ln, err := primary.Listen(ctx, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	sctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- srv.Serve(sctx, ln) }()
	defer func() { cancel(); <-done }()

	fp, err := client.Probe(ctx, ln.Addr().String())
	if err != nil || !fp.Equal(id.Fingerprint) {
		t.Fatalf("Probe = %s, %v; want %s", fp.Short(), err, id.Fingerprint.Short())
	}

	// Nothing listens on a port that was just closed.
	closed, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := closed.Addr().String()
	closed.Close()
	_, err = client.Probe(ctx, addr)
	if f := fieldOf(t, err); f.Field != "addr" || f.Code != fielderr.Unreachable || !errors.Is(err, client.ErrUnreachable) {
		t.Errorf("nothing listening: %+v %v", f, err)
	}

	// Something that is not a seat port: it answers plain text and hangs up.
	other, _ := net.Listen("tcp", "127.0.0.1:0")
	defer other.Close()
	go func() {
		for {
			c, err := other.Accept()
			if err != nil {
				return
			}
			c.Write([]byte("HTTP/1.1 400 Bad Request\r\n\r\n"))
			c.Close()
		}
	}()
	_, err = client.Probe(ctx, other.Addr().String())
	if f := fieldOf(t, err); f.Field != "addr" || f.Code != fielderr.NotPrimary || !errors.Is(err, client.ErrNotPrimary) {
		t.Errorf("not a primary: %+v %v", f, err)
	}

	dir, _ := datadir.Ensure(filepath.Join(t.TempDir(), "seat"))
	iid, _ := dir.InstallID()
	sec := secrets.New(secretstest.MemKeyring(), iid)
	_, err = client.Pair(ctx, client.PairOptions{Addr: ln.Addr().String(), Code: "00000-00000", Fingerprint: id.Fingerprint.Short(), Dir: dir, Secrets: sec})
	err = client.FormError(err)
	if f := fieldOf(t, err); f.Field != "code" || f.Code != fielderr.Refused || !errors.Is(err, seat.ErrCodeWrong) {
		t.Errorf("wrong code: %+v %v", f, err)
	}
	_, err = client.Pair(ctx, client.PairOptions{Addr: ln.Addr().String(), Code: "00000-00000", Fingerprint: "1111-2222-3333-4444", Dir: dir, Secrets: sec})
	if f := fieldOf(t, client.FormError(err)); f.Field != "addr" || f.Code != fielderr.NotPrimary {
		t.Errorf("another primary's fingerprint: %+v %v", f, err)
	}
}
