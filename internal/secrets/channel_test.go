package secrets

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"strings"
	"testing"

	"tsunagu/internal/fielderr"
)

// Values that must never appear in any output. The token's middle part is
// checked separately because TokenHint legitimately shows its ends.
const (
	leakSecret     = "5ecret0f7heBankBranchChannel9999"
	leakToken      = "TOKNxQ8mPrivateMiddlePartOfTheAccessTokenZZZ/+=eNDS"
	leakTokenInner = "PrivateMiddlePartOfTheAccessToken"
)

func assertNoLeak(t *testing.T, what, out string) {
	t.Helper()
	for _, v := range []string{leakSecret, leakToken, leakTokenInner} {
		if strings.Contains(out, v) {
			t.Errorf("%s leaks %q: %s", what, v, out)
		}
	}
}

func TestChannelRoundTrip(t *testing.T) {
	ctx := context.Background()
	kr := newFake()
	s := New(kr, idA)

	if ok, err := s.HasChannel(ctx); err != nil || ok {
		t.Fatalf("HasChannel before set = %v, %v", ok, err)
	}
	if _, err := s.Channel(ctx); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Channel before set: err = %v", err)
	}
	want := Channel{Secret: leakSecret, AccessToken: leakToken}
	if err := s.SetChannel(ctx, want); err != nil {
		t.Fatal(err)
	}
	got, err := s.Channel(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got.Secret != want.Secret || got.AccessToken != want.AccessToken {
		t.Fatal("Channel returned different values than were set")
	}
	if ok, err := s.HasChannel(ctx); err != nil || !ok {
		t.Fatalf("HasChannel after set = %v, %v", ok, err)
	}

	// Replacing works (unlike the DB key, credentials are rotated).
	if err := s.SetChannel(ctx, Channel{Secret: "new-secret", AccessToken: "new-token-0123456789"}); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Channel(ctx); got.Secret != "new-secret" {
		t.Fatal("SetChannel did not replace the secret")
	}

	if err := s.DeleteChannel(ctx); err != nil {
		t.Fatal(err)
	}
	if ok, err := s.HasChannel(ctx); err != nil || ok {
		t.Fatalf("HasChannel after delete = %v, %v", ok, err)
	}
	if len(kr.items) != 0 {
		t.Fatalf("items left: %d", len(kr.items))
	}
	if err := s.DeleteChannel(ctx); err != nil {
		t.Fatalf("DeleteChannel with nothing stored: %v", err)
	}
}

func TestSetChannelCleansInput(t *testing.T) {
	for _, tc := range []struct {
		name       string
		in         Channel
		wantSecret string
		wantToken  string
		wantItem   Item // item named in the error; "" means success
	}{
		{"plain", Channel{"abc", "tok"}, "abc", "tok", ""},
		{"pasted with newline", Channel{"abc\n", "tok\r\n"}, "abc", "tok", ""},
		{"spaces and tabs", Channel{"  abc\t", " tok "}, "abc", "tok", ""},
		{"ideographic space from a Japanese IME", Channel{"\u3000abc\u3000", "tok"}, "abc", "tok", ""},
		{"empty secret", Channel{"", "tok"}, "", "", ItemChannelSecret},
		{"blank secret", Channel{" \n ", "tok"}, "", "", ItemChannelSecret},
		{"empty token", Channel{"abc", ""}, "", "", ItemChannelToken},
		{"line break inside token", Channel{"abc", "to\nk"}, "", "", ItemChannelToken},
		{"space inside secret", Channel{"ab c", "tok"}, "", "", ItemChannelSecret},
		{"control character", Channel{"abc", "to\x00k"}, "", "", ItemChannelToken},
	} {
		t.Run(tc.name, func(t *testing.T) {
			kr := newFake()
			s := New(kr, idA)
			err := s.SetChannel(context.Background(), tc.in)
			if tc.wantItem != "" {
				if err == nil {
					t.Fatal("accepted")
				}
				if ie := itemErr(t, err); ie.Item != tc.wantItem || ie.Op != "set" {
					t.Errorf("ItemError = %+v, want item %s", ie, tc.wantItem)
				}
				if len(kr.calls) != 0 {
					t.Errorf("keychain was called for invalid input: %v", kr.calls)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got, err := s.Channel(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if got.Secret != tc.wantSecret || got.AccessToken != tc.wantToken {
				t.Fatalf("stored %q/%q, want %q/%q", got.Secret, got.AccessToken, tc.wantSecret, tc.wantToken)
			}
		})
	}
}

func TestChannelMissingItemIsNamed(t *testing.T) {
	for _, tc := range []struct {
		name    string
		present Item
		missing Item
	}{
		{"only secret stored", ItemChannelSecret, ItemChannelToken},
		{"only token stored", ItemChannelToken, ItemChannelSecret},
	} {
		t.Run(tc.name, func(t *testing.T) {
			kr := newFake()
			kr.put(Service, idA+"/"+string(tc.present), "value")
			s := New(kr, idA)
			_, err := s.Channel(context.Background())
			if !errors.Is(err, ErrNotFound) {
				t.Fatalf("err = %v, want ErrNotFound", err)
			}
			if ie := itemErr(t, err); ie.Item != tc.missing {
				t.Fatalf("error names %s, want %s", ie.Item, tc.missing)
			}
			if !strings.Contains(err.Error(), string(tc.missing)) {
				t.Fatalf("message %q does not name %s", err, tc.missing)
			}
			if ok, err := s.HasChannel(context.Background()); ok || err != nil {
				t.Fatalf("HasChannel = %v, %v; want false, nil", ok, err)
			}
		})
	}
}

func TestHasChannelPropagatesKeychainErrors(t *testing.T) {
	kr := newFake()
	kr.fail = func(string, string) error {
		return errors.New("failed to unlock correct collection '/org/freedesktop/secrets/collection/login'")
	}
	ok, err := New(kr, idA).HasChannel(context.Background())
	if ok || !errors.Is(err, ErrLocked) {
		t.Fatalf("HasChannel = %v, %v; want false, ErrLocked", ok, err)
	}
}

func TestSetChannelRestoresSecretWhenTokenFails(t *testing.T) {
	tokenFails := func(op, user string) error {
		if op == "set" && strings.HasSuffix(user, "/"+string(ItemChannelToken)) {
			return errors.New("keychain write failed")
		}
		return nil
	}
	t.Run("previous pair kept", func(t *testing.T) {
		ctx := context.Background()
		kr := newFake()
		s := New(kr, idA)
		if err := s.SetChannel(ctx, Channel{Secret: "old-secret", AccessToken: "old-token"}); err != nil {
			t.Fatal(err)
		}
		kr.fail = tokenFails
		if err := s.SetChannel(ctx, Channel{Secret: leakSecret, AccessToken: leakToken}); err == nil {
			t.Fatal("SetChannel succeeded although the token could not be stored")
		} else {
			assertNoLeak(t, "SetChannel error", err.Error())
		}
		kr.fail = nil
		got, err := s.Channel(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if got.Secret != "old-secret" || got.AccessToken != "old-token" {
			t.Fatalf("credentials mixed after failed update: %q/%q", got.Secret, got.AccessToken)
		}
	})
	t.Run("no previous pair", func(t *testing.T) {
		ctx := context.Background()
		kr := newFake()
		kr.fail = tokenFails
		s := New(kr, idA)
		if err := s.SetChannel(ctx, Channel{Secret: "s", AccessToken: "t"}); err == nil {
			t.Fatal("SetChannel succeeded")
		}
		if _, ok := kr.value(idA + "/" + string(ItemChannelSecret)); ok {
			t.Fatal("secret left behind without a token")
		}
	})
	t.Run("cancelled while storing", func(t *testing.T) {
		kr := newFake()
		s := New(kr, idA)
		if err := s.SetChannel(context.Background(), Channel{Secret: "old-secret", AccessToken: "old-token"}); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		kr.fail = func(op, user string) error {
			if op == "set" && strings.HasSuffix(user, "/"+string(ItemChannelSecret)) {
				cancel() // the token Set will see a cancelled ctx
			}
			return nil
		}
		err := s.SetChannel(ctx, Channel{Secret: "new-secret", AccessToken: "new-token"})
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v, want context.Canceled", err)
		}
		kr.fail = nil
		if got, _ := s.Channel(context.Background()); got.Secret != "old-secret" || got.AccessToken != "old-token" {
			t.Fatalf("credentials mixed after cancelled update: %q/%q", got.Secret, got.AccessToken)
		}
	})
}

func TestDeleteChannelErrors(t *testing.T) {
	kr := newFake()
	s := New(kr, idA)
	if err := s.SetChannel(context.Background(), Channel{Secret: "s", AccessToken: "t"}); err != nil {
		t.Fatal(err)
	}
	kr.fail = func(op, user string) error {
		if op == "delete" && strings.HasSuffix(user, "/"+string(ItemChannelSecret)) {
			return errors.New("failed to unlock correct collection '/org/freedesktop/secrets/collection/login'")
		}
		return nil
	}
	err := s.DeleteChannel(context.Background())
	if !errors.Is(err, ErrLocked) {
		t.Fatalf("err = %v, want ErrLocked", err)
	}
	if _, ok := kr.value(idA + "/" + string(ItemChannelToken)); ok {
		t.Fatal("token not deleted although only the secret failed")
	}
}

func TestTokenHint(t *testing.T) {
	for _, tc := range []struct {
		token, want string
	}{
		{"", "***"},
		{"abc", "***"},
		{"0123456789abcde", "***"}, // 15: too short to show 8 characters
		{"0123456789abcdef", "0123…cdef"},
		{leakToken, "TOKN…eNDS"},
		{"あいうえおかきくけこさしすせそた", "あいうえ…すせそた"}, // runes, not bytes
	} {
		if got := (Channel{AccessToken: tc.token}).TokenHint(); got != tc.want {
			t.Errorf("TokenHint(%q) = %q, want %q", tc.token, got, tc.want)
		}
	}
}

func TestChannelRedaction(t *testing.T) {
	c := Channel{Secret: leakSecret, AccessToken: leakToken}
	const want = "Channel{secret:***, token:TOKN…eNDS}"
	if got := c.String(); got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	if got := (Channel{}).String(); got != "Channel{secret:<empty>, token:<empty>}" {
		t.Errorf("zero String() = %q", got)
	}

	type holder struct {
		Name string
		C    Channel
		P    *Channel
	}
	values := map[string]any{
		"value":   c,
		"pointer": &c,
		"struct":  holder{Name: "x", C: c, P: &c},
		"slice":   []Channel{c},
		"map":     map[string]Channel{"k": c},
	}
	for name, v := range values {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%T %v", "%10.3v"} {
			out := fmt.Sprintf(verb, v)
			assertNoLeak(t, name+" "+verb, out)
		}
		assertNoLeak(t, name+" Sprint", fmt.Sprint(v))
		assertNoLeak(t, name+" Sprintln", fmt.Sprintln(v))

		js, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		assertNoLeak(t, name+" json", string(js))

		var buf bytes.Buffer
		slog.New(slog.NewJSONHandler(&buf, nil)).Info("m", "channel", v)
		slog.New(slog.NewTextHandler(&buf, nil)).Info("m", "channel", v)
		assertNoLeak(t, name+" slog", buf.String())
	}
	// Positive control: the checks above would notice a leak.
	if out := fmt.Sprintf("%v", struct{ S, T string }{c.Secret, c.AccessToken}); !strings.Contains(out, leakSecret) {
		t.Fatal("leak check is broken")
	}
}

func TestErrorsNeverContainValues(t *testing.T) {
	ctx := context.Background()
	failures := map[string]func(op, user string) error{
		"locked":      func(string, string) error { return errors.New("failed to unlock correct collection '/x'") },
		"other error": func(string, string) error { return errors.New("boom") },
		"set fails": func(op, _ string) error {
			if op == "set" {
				return errors.New("write refused")
			}
			return nil
		},
	}
	for name, fail := range failures {
		t.Run(name, func(t *testing.T) {
			kr := newFake()
			s := New(kr, idA)
			if err := s.SetChannel(ctx, Channel{Secret: leakSecret, AccessToken: leakToken}); err != nil {
				t.Fatal(err)
			}
			kr.put(Service, idA+"/db-key", leakSecret) // malformed: not 64 hex digits
			kr.fail = fail

			var errs []error
			_, err := s.DBKey(ctx)
			errs = append(errs, err)
			_, err = s.CreateDBKey(ctx)
			errs = append(errs, err)
			_, err = s.Channel(ctx)
			errs = append(errs, err)
			_, err = s.HasChannel(ctx)
			errs = append(errs, err)
			errs = append(errs, s.SetChannel(ctx, Channel{Secret: leakSecret, AccessToken: leakToken}))
			errs = append(errs, s.SetChannel(ctx, Channel{Secret: leakSecret + " x", AccessToken: leakToken}))
			errs = append(errs, s.DeleteChannel(ctx))
			for i, err := range errs {
				if err == nil {
					continue
				}
				for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
					assertNoLeak(t, fmt.Sprintf("error %d %s", i, verb), fmt.Sprintf(verb, err))
				}
			}
		})
	}
	// The malformed stored key must not be echoed either.
	kr := newFake()
	kr.put(Service, idA+"/db-key", leakSecret)
	_, err := New(kr, idA).DBKey(ctx)
	if err == nil {
		t.Fatal("malformed key accepted")
	}
	assertNoLeak(t, "malformed key error", fmt.Sprintf("%v %+v %#v", err, err, err))
}

// The channel form marks every wrong credential at once, by SaveChannel's
// argument names, and stores nothing.
func TestSetChannelNamesWrongFields(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   Channel
		want []fielderr.FieldError
	}{
		{"both empty", Channel{"", " "}, []fielderr.FieldError{{Field: "secret", Code: fielderr.Required}, {Field: "accessToken", Code: fielderr.Required}}},
		{"space in secret, token empty", Channel{"ab c", ""}, []fielderr.FieldError{{Field: "secret", Code: fielderr.NoSpaces}, {Field: "accessToken", Code: fielderr.Required}}},
		{"line break in token", Channel{"abc", "to\nk"}, []fielderr.FieldError{{Field: "accessToken", Code: fielderr.NoSpaces}}},
	} {
		kr := newFake()
		err := New(kr, idA).SetChannel(context.Background(), tc.in)
		if got := fielderr.Fields(err); !reflect.DeepEqual(got, tc.want) || !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: %v fields %+v, want %+v", tc.name, err, got, tc.want)
		}
		if strings.Contains(err.Error(), "ab c") || strings.Contains(err.Error(), "to\nk") {
			t.Errorf("%s: the error echoes the value: %v", tc.name, err)
		}
		if len(kr.calls) != 0 {
			t.Errorf("%s: keychain was called: %v", tc.name, kr.calls)
		}
	}
}
