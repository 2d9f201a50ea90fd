package secrets

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zalando/go-keyring"
)

// fakeKeyring is an in-memory Keyring that behaves like go-keyring's
// backends: Set replaces, missing items give keyring.ErrNotFound.
type fakeKeyring struct {
	mu    sync.Mutex
	items map[[2]string]string
	calls []string // "op user", in order

	// fail, if set, is consulted before each operation; a non-nil error is
	// returned instead of performing it.
	fail func(op, user string) error
	// afterSet, if set, runs after a successful Set (e.g. a racing writer).
	afterSet func(f *fakeKeyring, user string)
}

func newFake() *fakeKeyring { return &fakeKeyring{items: map[[2]string]string{}} }

func (f *fakeKeyring) Get(service, user string) (string, error) {
	if err := f.before("get", user); err != nil {
		return "", err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	v, ok := f.items[[2]string{service, user}]
	if !ok {
		return "", keyring.ErrNotFound
	}
	return v, nil
}

func (f *fakeKeyring) Set(service, user, password string) error {
	if err := f.before("set", user); err != nil {
		return err
	}
	f.put(service, user, password)
	if f.afterSet != nil {
		f.afterSet(f, user)
	}
	return nil
}

func (f *fakeKeyring) Delete(service, user string) error {
	if err := f.before("delete", user); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	k := [2]string{service, user}
	if _, ok := f.items[k]; !ok {
		return keyring.ErrNotFound
	}
	delete(f.items, k)
	return nil
}

func (f *fakeKeyring) before(op, user string) error {
	f.mu.Lock()
	f.calls = append(f.calls, op+" "+user)
	fail := f.fail
	f.mu.Unlock()
	if fail != nil {
		return fail(op, user)
	}
	return nil
}

func (f *fakeKeyring) put(service, user, v string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.items[[2]string{service, user}] = v
}

func (f *fakeKeyring) value(user string) (string, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	v, ok := f.items[[2]string{Service, user}]
	return v, ok
}

func (f *fakeKeyring) count(op string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, c := range f.calls {
		if strings.HasPrefix(c, op+" ") {
			n++
		}
	}
	return n
}

const (
	idA = "0123456789abcdef01234567"
	idB = "fedcba9876543210fedcba98"
)

func itemErr(t *testing.T, err error) *ItemError {
	t.Helper()
	var ie *ItemError
	if !errors.As(err, &ie) {
		t.Fatalf("error %v (%T) is not an *ItemError", err, err)
	}
	return ie
}

func TestAccountNames(t *testing.T) {
	ctx := context.Background()
	kr := newFake()
	s := New(kr, idA)
	if _, err := s.CreateDBKey(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.SetChannel(ctx, Channel{Secret: "s3cr3t-value", AccessToken: "token-value-0123456789"}); err != nil {
		t.Fatal(err)
	}
	for _, item := range []Item{ItemDBKey, ItemChannelSecret, ItemChannelToken} {
		if _, ok := kr.value(idA + "/" + string(item)); !ok {
			t.Errorf("item %s not stored under service %q account %q", item, Service, idA+"/"+string(item))
		}
	}
	if n := len(kr.items); n != 3 {
		t.Errorf("keychain holds %d items, want 3", n)
	}
}

func TestInstallsAreIsolated(t *testing.T) {
	ctx := context.Background()
	kr := newFake()
	a, b := New(kr, idA), New(kr, idB)

	keyA, err := a.CreateDBKey(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.DBKey(ctx); !errors.Is(err, ErrNotFound) {
		t.Fatalf("install B sees a DB key: err=%v", err)
	}
	keyB, err := b.CreateDBKey(ctx)
	if err != nil {
		t.Fatalf("install B cannot create its own key: %v", err)
	}
	if bytes.Equal(keyA, keyB) {
		t.Fatal("two installs got the same key")
	}
	got, err := a.DBKey(ctx)
	if err != nil || !bytes.Equal(got, keyA) {
		t.Fatalf("install A's key changed after B created one: %v", err)
	}

	if err := a.SetChannel(ctx, Channel{Secret: "secret-a", AccessToken: "token-a-0123456789"}); err != nil {
		t.Fatal(err)
	}
	if ok, err := b.HasChannel(ctx); err != nil || ok {
		t.Fatalf("install B sees A's channel: ok=%v err=%v", ok, err)
	}
	if err := b.DeleteChannel(ctx); err != nil {
		t.Fatal(err)
	}
	if ok, err := a.HasChannel(ctx); err != nil || !ok {
		t.Fatalf("B's DeleteChannel removed A's channel: ok=%v err=%v", ok, err)
	}
}

func TestCreateDBKey(t *testing.T) {
	ctx := context.Background()
	kr := newFake()
	s := New(kr, idA)

	key, err := s.CreateDBKey(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(key) != 32 {
		t.Fatalf("key is %d bytes, want 32", len(key))
	}
	if bytes.Equal(key, make([]byte, 32)) {
		t.Fatal("key is all zeros")
	}
	got, err := s.DBKey(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, key) {
		t.Fatal("DBKey differs from the created key")
	}
	if v, _ := kr.value(idA + "/db-key"); v != hex.EncodeToString(key) {
		t.Fatal("key is not stored as lowercase hex")
	}
}

func TestCreateDBKeyNeverOverwrites(t *testing.T) {
	valid := strings.Repeat("ab", 32)
	for _, tc := range []struct {
		name   string
		stored string
	}{
		{"valid key", valid},
		{"malformed key", "not-a-key"},
		{"empty value", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			kr := newFake()
			kr.put(Service, idA+"/db-key", tc.stored)
			s := New(kr, idA)

			_, err := s.CreateDBKey(ctx)
			if !errors.Is(err, ErrExists) {
				t.Fatalf("err = %v, want ErrExists", err)
			}
			if ie := itemErr(t, err); ie.Item != ItemDBKey || ie.Op != "create" {
				t.Errorf("ItemError = %+v", ie)
			}
			if v, _ := kr.value(idA + "/db-key"); v != tc.stored {
				t.Fatal("stored key was changed")
			}
			if n := kr.count("set"); n != 0 {
				t.Fatalf("Set called %d times", n)
			}
		})
	}
}

func TestCreateDBKeyTwice(t *testing.T) {
	ctx := context.Background()
	s := New(newFake(), idA)
	first, err := s.CreateDBKey(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateDBKey(ctx); !errors.Is(err, ErrExists) {
		t.Fatalf("second CreateDBKey: err = %v, want ErrExists", err)
	}
	got, err := s.DBKey(ctx)
	if err != nil || !bytes.Equal(got, first) {
		t.Fatalf("first key changed (err=%v)", err)
	}
}

func TestCreateDBKeyFailsClosed(t *testing.T) {
	locked := errors.New("failed to unlock correct collection '/org/freedesktop/secrets/aliases/default'")
	for _, tc := range []struct {
		name    string
		fail    func(op, user string) error
		want    error
		wantSet int
	}{
		{
			name:    "keychain locked when checking for a key",
			fail:    func(op, _ string) error { return map[string]error{"get": locked}[op] },
			want:    ErrLocked,
			wantSet: 0,
		},
		{
			name:    "keychain refuses the write",
			fail:    func(op, _ string) error { return map[string]error{"set": locked}[op] },
			want:    ErrLocked,
			wantSet: 1,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			kr := newFake()
			kr.fail = tc.fail
			key, err := New(kr, idA).CreateDBKey(context.Background())
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if key != nil {
				t.Fatal("returned a key despite the error")
			}
			if n := kr.count("set"); n != tc.wantSet {
				t.Fatalf("Set called %d times, want %d", n, tc.wantSet)
			}
		})
	}
}

func TestCreateDBKeyLostRace(t *testing.T) {
	other := strings.Repeat("cd", 32)
	kr := newFake()
	// Another process stores its key right after ours.
	kr.afterSet = func(f *fakeKeyring, user string) { f.put(Service, user, other) }
	s := New(kr, idA)

	key, err := s.CreateDBKey(context.Background())
	if !errors.Is(err, ErrExists) {
		t.Fatalf("err = %v, want ErrExists", err)
	}
	if key != nil {
		t.Fatal("returned a key that is not the stored one")
	}
	got, err := s.DBKey(context.Background())
	if err != nil || hex.EncodeToString(got) != other {
		t.Fatalf("DBKey = %x, %v; want the winner's key", got, err)
	}
}

func TestDBKey(t *testing.T) {
	valid := strings.Repeat("0f", 32)
	for _, tc := range []struct {
		name    string
		stored  *string
		wantErr error // nil: success
	}{
		{"valid", &valid, nil},
		{"uppercase hex", ptr(strings.ToUpper(valid)), nil},
		{"missing", nil, ErrNotFound},
		{"too short", ptr(valid[:62]), errMalformed},
		{"too long", ptr(valid + "00"), errMalformed},
		{"not hex", ptr("zz" + valid[2:]), errMalformed},
		{"empty", ptr(""), errMalformed},
		{"raw bytes instead of hex", ptr(strings.Repeat("k", 32)), errMalformed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			kr := newFake()
			if tc.stored != nil {
				kr.put(Service, idA+"/db-key", *tc.stored)
			}
			key, err := New(kr, idA).DBKey(context.Background())
			if tc.wantErr == nil {
				if err != nil {
					t.Fatal(err)
				}
				if len(key) != 32 || hex.EncodeToString(key) != valid {
					t.Fatalf("key = %x", key)
				}
				return
			}
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
			if ie := itemErr(t, err); ie.Item != ItemDBKey || ie.Op != "get" {
				t.Errorf("ItemError = %+v", ie)
			}
			if tc.stored != nil && *tc.stored != "" && strings.Contains(err.Error(), *tc.stored) {
				t.Fatalf("error %q contains the stored value", err)
			}
			if errors.Is(err, errMalformed) && errors.Is(err, ErrNotFound) {
				t.Fatal("malformed key reported as not found: the caller would create a new key and lose the database")
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

func TestInvalidInstallID(t *testing.T) {
	for _, id := range []string{"", "a/b", `a\b`, " padded "} {
		t.Run(id, func(t *testing.T) {
			kr := newFake()
			s := New(kr, id)
			ctx := context.Background()
			if _, err := s.DBKey(ctx); err == nil {
				t.Error("DBKey accepted the install ID")
			}
			if _, err := s.CreateDBKey(ctx); err == nil {
				t.Error("CreateDBKey accepted the install ID")
			}
			if err := s.SetChannel(ctx, Channel{Secret: "s", AccessToken: "t"}); err == nil {
				t.Error("SetChannel accepted the install ID")
			}
			if len(kr.calls) != 0 {
				t.Errorf("keychain was called: %v", kr.calls)
			}
		})
	}
}

func TestContextStopsWaiting(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	kr := newFake()
	// Like a Secret Service waiting for an unlock prompt nobody answers.
	kr.fail = func(string, string) error { <-release; return nil }
	s := New(kr, idA)

	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := s.DBKey(ctx)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want context.DeadlineExceeded", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("returned after %v", d)
	}
	itemErr(t, err)

	cancelled, cancel2 := context.WithCancel(context.Background())
	cancel2()
	if _, err := s.CreateDBKey(cancelled); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled ctx: err = %v", err)
	}
}

func TestItemError(t *testing.T) {
	err := error(&ItemError{Item: ItemChannelToken, Op: "get", Err: ErrNotFound})
	if got, want := err.Error(), "keychain get line-channel-access-token: not found in the OS keychain"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	if !errors.Is(err, ErrNotFound) || errors.Is(err, ErrLocked) {
		t.Error("Unwrap does not expose Err")
	}
	if got := (&ItemError{Item: ItemDBKey, Op: "get"}).Error(); got != "keychain get db-key: <nil>" {
		t.Errorf("nil Err: %q", got)
	}
}
