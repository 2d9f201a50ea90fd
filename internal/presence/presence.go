// Package presence is who has which conversation open right now, across
// the window and the seat PCs (issue 18): 「山田さんが対応中」. It is memory
// only, by design: presence is a courtesy between colleagues at work now,
// not a record (the audit trail records what was done). A client that stops
// saying it is there (closed, asleep, cut off) drops out after TTL.
package presence

import (
	"slices"
	"sync"
	"time"
)

// TTL is how long a client counts as present without a new Touch. The UI
// touches every 15 s while a conversation is open; two missed beats drop it.
const TTL = 40 * time.Second

// Person is a staff member who has a conversation open.
type Person struct {
	Login string `json:"login"`
	Name  string `json:"name"` // display name
	Seat  string `json:"seat"` // "" for the primary's window
}

type entry struct {
	who  Person
	conv int64
	seen time.Time
}

// Registry holds the present clients, each by a key its caller chooses
// (one per client: a window or a seat's connection).
type Registry struct {
	now func() time.Time

	mu      sync.Mutex
	clients map[string]entry
}

// New returns an empty registry; now is the clock (nil: time.Now).
func New(now func() time.Time) *Registry {
	if now == nil {
		now = time.Now
	}
	return &Registry{now: now, clients: map[string]entry{}}
}

// Touch says client has conversation conv open as who (conv 0: none). It
// returns the conversations whose set of people changed (the one left, the
// one entered, any that expired), for the caller to announce.
func (r *Registry) Touch(client string, who Person, conv int64) []int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	changed := r.expireLocked()
	old, had := r.clients[client]
	if conv == 0 {
		delete(r.clients, client)
	} else {
		r.clients[client] = entry{who: who, conv: conv, seen: r.now()}
	}
	switch {
	case had && old.conv == conv && old.who == who:
	default:
		if had {
			changed = append(changed, old.conv)
		}
		if conv != 0 {
			changed = append(changed, conv)
		}
	}
	return compact(changed)
}

// Leave removes client (signed out, locked, gone); the conversations it
// had open changed.
func (r *Registry) Leave(client string) []int64 {
	return r.Touch(client, Person{}, 0)
}

// Others are the people with conv open, other than client, each once (a
// person at two PCs is listed once), by name.
func (r *Registry) Others(client string, conv int64) []Person {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.expireLocked()
	var out []Person
	for k, e := range r.clients {
		if k == client || e.conv != conv || slices.ContainsFunc(out, func(p Person) bool { return p.Login == e.who.Login }) {
			continue
		}
		out = append(out, e.who)
	}
	slices.SortFunc(out, func(a, b Person) int {
		if a.Name < b.Name {
			return -1
		}
		if a.Name > b.Name {
			return 1
		}
		return 0
	})
	return out
}

// expireLocked drops clients not seen for TTL; their conversations changed.
func (r *Registry) expireLocked() []int64 {
	var changed []int64
	cut := r.now().Add(-TTL)
	for k, e := range r.clients {
		if e.seen.Before(cut) {
			delete(r.clients, k)
			changed = append(changed, e.conv)
		}
	}
	return changed
}

func compact(ids []int64) []int64 {
	slices.Sort(ids)
	return slices.Compact(ids)
}
