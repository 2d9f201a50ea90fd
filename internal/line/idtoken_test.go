package line

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"tsunagu/internal/linesim"
)

// TestVerifyIDToken checks a LIFF ID token against the simulator's LINE
// Login verify endpoint: a genuine one names its customer; an expired one,
// one for another channel, one with a tampered payload and one signed by
// someone else are refused as ErrIDTokenRejected with LINE's reason.
func TestVerifyIDToken(t *testing.T) {
	e := newEnv(t)
	u := e.follower("hanako")
	ctx := context.Background()
	v, err := NewIDTokenVerifier(e.sim.URL(), e.sim.LoginChannelID(), nil)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := e.sim.IssueIDToken(u, "n-1")
	if err != nil {
		t.Fatal(err)
	}
	info, err := v.VerifyIDToken(ctx, tok)
	if err != nil {
		t.Fatal(err)
	}
	if info.UserID != u || info.Nonce != "n-1" || !info.Expires.After(info.IssuedAt) {
		t.Fatalf("info = %+v", info)
	}

	now := e.clock.Now()
	expired, _ := e.sim.SignIDToken(linesim.IDTokenClaims{Iss: linesim.IDTokenIssuer, Sub: u, Aud: e.sim.LoginChannelID(),
		Iat: now.Add(-2 * time.Hour).Unix(), Exp: now.Add(-time.Hour).Unix()})
	otherChannel, _ := e.sim.SignIDToken(linesim.IDTokenClaims{Iss: linesim.IDTokenIssuer, Sub: u, Aud: "1999999999",
		Iat: now.Unix(), Exp: now.Add(time.Hour).Unix()})
	// Another customer's claims pasted over a genuine signature.
	other := e.follower("taro")
	otherTok, _ := e.sim.IssueIDToken(other, "")
	p, q := strings.Split(tok, "."), strings.Split(otherTok, ".")
	tampered := p[0] + "." + q[1] + "." + p[2]
	// A token signed by another LINE (another simulator's key).
	stranger := linesim.New(linesim.Config{AccessToken: "x", LoginChannelID: e.sim.LoginChannelID()})
	stranger.AddCustomer(linesim.Customer{UserID: u, DisplayName: "hanako", Following: true})
	foreign, err := stranger.IssueIDToken(u, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ name, tok, reason string }{
		{"expired", expired, "IdToken expired."},
		{"other channel", otherChannel, "Invalid IdToken Audience."},
		{"tampered", tampered, "Invalid IdToken."},
		{"foreign key", foreign, "Invalid IdToken."},
		{"garbage", "not.a.token", "Invalid IdToken."},
	} {
		_, err := v.VerifyIDToken(ctx, c.tok)
		if !errors.Is(err, ErrIDTokenRejected) || !strings.Contains(err.Error(), c.reason) {
			t.Errorf("%s: err = %v, want rejected with %q", c.name, err, c.reason)
		}
	}
	// The channel ID is ours to send: a verifier for another channel
	// refuses the genuine token.
	v2, _ := NewIDTokenVerifier(e.sim.URL(), "1999999999", nil)
	if _, err := v2.VerifyIDToken(ctx, tok); !errors.Is(err, ErrIDTokenRejected) {
		t.Fatalf("other channel's verifier: %v", err)
	}
}

// TestVerifyIDTokenTransient: LINE unreachable is not a rejection (the
// submission must wait and be retried, not be thrown away).
func TestVerifyIDTokenTransient(t *testing.T) {
	e := newEnv(t)
	u := e.follower("hanako")
	tok, _ := e.sim.IssueIDToken(u, "")
	v, _ := NewIDTokenVerifier(e.sim.URL(), e.sim.LoginChannelID(), nil)
	e.sim.Close()
	_, err := v.VerifyIDToken(context.Background(), tok)
	if err == nil || errors.Is(err, ErrIDTokenRejected) {
		t.Fatalf("err = %v, want a transient error", err)
	}
	if _, err := NewIDTokenVerifier("http://example.com", "1", nil); err == nil {
		t.Fatal("plain http to a remote host accepted")
	}
}
