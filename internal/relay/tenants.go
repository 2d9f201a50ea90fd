package relay

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/nats-io/nats.go/jetstream"

	"tsunagu/internal/relay/wire"
)

// Errors of tenant management and enrollment.
var (
	ErrTenantNotFound = errors.New("relay: no such tenant")
	ErrBadCode        = errors.New("relay: enrollment code is wrong, used or expired")
	ErrTenantDisabled = errors.New("relay: tenant is disabled")
	ErrBadKey         = errors.New("relay: key has the wrong size")
)

// CodeTTL is how long an enrollment code stays valid.
const CodeTTL = 7 * 24 * time.Hour

// Tenant is one LINE channel served by the relay. Only hashes of the
// enrollment code and webhook token are stored, and only public keys.
type Tenant struct {
	ID         string    `json:"id"`
	Name       string    `json:"name"` // for the operator; never a metric label
	CreatedAt  time.Time `json:"createdAt"`
	Disabled   bool      `json:"disabled,omitempty"`
	CodeHash   string    `json:"codeHash,omitempty"` // until enrolled
	CodeExpiry time.Time `json:"codeExpiry,omitzero"`
	EnrolledAt time.Time `json:"enrolledAt,omitzero"`
	TokenHash  string    `json:"tokenHash,omitempty"`
	BoxKey     []byte    `json:"boxKey,omitempty"`
	AuthKey    []byte    `json:"authKey,omitempty"`
}

// Enrolled reports whether a desktop has enrolled.
func (t *Tenant) Enrolled() bool {
	return len(t.BoxKey) == wire.KeySize && len(t.AuthKey) == ed25519.PublicKeySize
}

func (t *Tenant) boxKey() *[wire.KeySize]byte {
	var k [wire.KeySize]byte
	copy(k[:], t.BoxKey)
	return &k
}

// TenantInfo is what `tenant list` shows.
type TenantInfo struct {
	ID         string    `json:"id"`
	Name       string    `json:"name"`
	CreatedAt  time.Time `json:"createdAt"`
	Enrolled   bool      `json:"enrolled"`
	EnrolledAt time.Time `json:"enrolledAt,omitzero"`
	Disabled   bool      `json:"disabled"`
	Queued     uint64    `json:"queued"`
	// QueuedBytes as the byte quota counts them (by size class).
	QueuedBytes int64  `json:"queuedBytes"`
	DeadLetters uint64 `json:"deadLetters"`
}

// Admin manages tenants directly on the JetStream objects; the relay's
// `tenant` subcommands use it.
type Admin struct {
	o     *jsObjects
	cfg   queueConfig
	clock func() time.Time
}

func hashSecret(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

func equalHash(stored, secret string) bool {
	return stored != "" && subtle.ConstantTimeCompare([]byte(stored), []byte(hashSecret(secret))) == 1
}

var b32 = base32.StdEncoding.WithPadding(base32.NoPadding)

// AddTenant creates a tenant and returns it with its enrollment code,
// TENANTID-SECRET (the secret 160 random bits, base32 in groups for reading
// aloud or typing).
func (a *Admin) AddTenant(ctx context.Context, name string) (TenantInfo, string, error) {
	name = strings.TrimSpace(name)
	if name == "" || utf8.RuneCountInString(name) > 100 || strings.ContainsAny(name, "\r\n\t") {
		return TenantInfo{}, "", errors.New("relay: tenant name must be 1-100 characters on one line")
	}
	idb := make([]byte, 6)
	sec := make([]byte, 20)
	rand.Read(idb)
	rand.Read(sec)
	id := "t" + hex.EncodeToString(idb)
	secret := b32.EncodeToString(sec)
	now := a.clock().UTC()
	t := Tenant{ID: id, Name: name, CreatedAt: now, CodeHash: hashSecret(secret), CodeExpiry: now.Add(CodeTTL)}
	data, _ := json.Marshal(t)
	if _, err := a.o.tenants.Create(ctx, id, data); err != nil {
		return TenantInfo{}, "", fmt.Errorf("relay: store tenant: %w", err)
	}
	if _, err := a.o.ensureConsumer(ctx, id, a.cfg); err != nil {
		return TenantInfo{}, "", err
	}
	var groups []string
	for i := 0; i < len(secret); i += 4 {
		groups = append(groups, secret[i:min(i+4, len(secret))])
	}
	return info(&t, 0), id + "-" + strings.Join(groups, "-"), nil
}

// ListTenants lists every tenant with its queue depth.
func (a *Admin) ListTenants(ctx context.Context) ([]TenantInfo, error) {
	usage, _ := queueUsages(ctx, a.o)
	dead, _ := deadCounts(ctx, a.o)
	keys, err := a.o.tenants.ListKeys(ctx)
	if err != nil {
		return nil, fmt.Errorf("relay: list tenants: %w", err)
	}
	out := []TenantInfo{}
	for k := range keys.Keys() {
		t, _, err := getTenant(ctx, a.o.tenants, k)
		if err != nil {
			continue
		}
		ti := info(t, uint64(usage[t.ID].Count))
		ti.QueuedBytes, ti.DeadLetters = usage[t.ID].Bytes, dead[t.ID]
		out = append(out, ti)
	}
	return out, nil
}

// SetDisabled disables (webhooks 404, connections refused) or re-enables a
// tenant. Queued events are kept.
func (a *Admin) SetDisabled(ctx context.Context, id string, disabled bool) error {
	return updateTenant(ctx, a.o.tenants, id, func(t *Tenant) error {
		t.Disabled = disabled
		return nil
	})
}

// RemoveTenant deletes a tenant and its queued events.
func (a *Admin) RemoveTenant(ctx context.Context, id string) error {
	if _, _, err := getTenant(ctx, a.o.tenants, id); err != nil {
		return err
	}
	if err := a.o.removeTenantQueue(ctx, id); err != nil {
		return err
	}
	if err := a.o.deleteTenantMedia(ctx, id); err != nil {
		return fmt.Errorf("relay: delete media: %w", err)
	}
	if err := a.o.deleteTenantForms(ctx, id); err != nil {
		return fmt.Errorf("relay: remove tenant forms: %w", err)
	}
	if err := a.o.deleteTenantBooking(ctx, id); err != nil {
		return fmt.Errorf("relay: remove tenant booking: %w", err)
	}
	if err := a.o.deleteTenantLinks(ctx, id); err != nil {
		return fmt.Errorf("relay: delete tracked links: %w", err)
	}
	if err := a.o.tenants.Purge(ctx, id); err != nil {
		return fmt.Errorf("relay: delete tenant: %w", err)
	}
	return nil
}

func info(t *Tenant, queued uint64) TenantInfo {
	return TenantInfo{ID: t.ID, Name: t.Name, CreatedAt: t.CreatedAt, Enrolled: t.Enrolled(),
		EnrolledAt: t.EnrolledAt, Disabled: t.Disabled, Queued: queued}
}

func getTenant(ctx context.Context, kv jetstream.KeyValue, id string) (*Tenant, uint64, error) {
	if !validTenantID(id) {
		return nil, 0, ErrTenantNotFound
	}
	e, err := kv.Get(ctx, id)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil, 0, ErrTenantNotFound
	}
	if err != nil {
		return nil, 0, fmt.Errorf("relay: read tenant: %w", err)
	}
	var t Tenant
	if err := json.Unmarshal(e.Value(), &t); err != nil {
		return nil, 0, fmt.Errorf("relay: tenant record: %w", err)
	}
	return &t, e.Revision(), nil
}

// updateTenant changes a tenant with compare-and-set, so two relays (or an
// admin command and a relay) never overwrite each other's change.
func updateTenant(ctx context.Context, kv jetstream.KeyValue, id string, change func(*Tenant) error) error {
	for range 5 {
		t, rev, err := getTenant(ctx, kv, id)
		if err != nil {
			return err
		}
		if err := change(t); err != nil {
			return err
		}
		data, _ := json.Marshal(t)
		if _, err := kv.Update(ctx, id, data, rev); err == nil {
			return nil
		} else if !errors.Is(err, jetstream.ErrKeyExists) && !errors.Is(err, jetstream.ErrKeyRevisionMismatch) {
			return fmt.Errorf("relay: update tenant: %w", err)
		}
	}
	return errors.New("relay: tenant changed concurrently, try again")
}

// validTenantID: "t" and 12 hex digits. Checked before any lookup so that
// arbitrary path text never becomes a KV key or a subject.
func validTenantID(id string) bool {
	if len(id) != 13 || id[0] != 't' {
		return false
	}
	_, err := hex.DecodeString(id[1:])
	return err == nil
}

// enroll redeems a code: the tenant gets the desktop's keys and a new
// webhook token (256 random bits), and the code cannot be used again.
func enroll(ctx context.Context, kv jetstream.KeyValue, req wire.EnrollRequest, now time.Time) (tenant, token string, err error) {
	code := strings.ToUpper(strings.Join(strings.Fields(req.Code), ""))
	id, secret, ok := strings.Cut(code, "-")
	if !ok {
		return "", "", ErrBadCode
	}
	id = strings.ToLower(id)
	secret = strings.ReplaceAll(secret, "-", "")
	if len(req.BoxKey) != wire.KeySize || len(req.AuthKey) != ed25519.PublicKeySize {
		return "", "", ErrBadKey
	}
	tok := make([]byte, 32)
	rand.Read(tok)
	token = base64.RawURLEncoding.EncodeToString(tok)
	err = updateTenant(ctx, kv, id, func(t *Tenant) error {
		if t.Disabled {
			return ErrTenantDisabled
		}
		if !equalHash(t.CodeHash, secret) || now.After(t.CodeExpiry) {
			return ErrBadCode
		}
		t.CodeHash, t.CodeExpiry = "", time.Time{}
		t.BoxKey, t.AuthKey = req.BoxKey, req.AuthKey
		t.TokenHash = hashSecret(token)
		t.EnrolledAt = now.UTC()
		return nil
	})
	if errors.Is(err, ErrTenantNotFound) {
		return "", "", ErrBadCode
	}
	if err != nil {
		return "", "", err
	}
	return id, token, nil
}

// ReissueCode gives an enrolled (or not) tenant a new enrollment code, e.g.
// when the branch replaced its PC. Enrolling with it replaces the keys and
// the webhook token.
func (a *Admin) ReissueCode(ctx context.Context, id string) (string, error) {
	sec := make([]byte, 20)
	rand.Read(sec)
	secret := b32.EncodeToString(sec)
	now := a.clock().UTC()
	err := updateTenant(ctx, a.o.tenants, id, func(t *Tenant) error {
		t.CodeHash, t.CodeExpiry = hashSecret(secret), now.Add(CodeTTL)
		return nil
	})
	if err != nil {
		return "", err
	}
	var groups []string
	for i := 0; i < len(secret); i += 4 {
		groups = append(groups, secret[i:min(i+4, len(secret))])
	}
	return id + "-" + strings.Join(groups, "-"), nil
}
