package secretstest

import (
	"fmt"
	"sync"

	"tsunagu/internal/secrets"
)

// Mem is an in-memory keychain for tests and benchmarks whose subject is
// not the keychain itself: they run everywhere, without a keyring session.
type Mem struct {
	mu    sync.Mutex
	items map[string]string
}

// MemKeyring returns an empty in-memory keychain.
func MemKeyring() *Mem { return &Mem{items: map[string]string{}} }

func (m *Mem) Get(service, user string) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	v, ok := m.items[service+"\x00"+user]
	if !ok {
		return "", fmt.Errorf("%s/%s: %w", service, user, secrets.ErrNotFound)
	}
	return v, nil
}

func (m *Mem) Set(service, user, password string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.items[service+"\x00"+user] = password
	return nil
}

func (m *Mem) Delete(service, user string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.items, service+"\x00"+user)
	return nil
}
