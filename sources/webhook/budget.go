package webhook

import (
	"sync"
	"time"
)

// budgets gives each client a budget of rejected requests: perMinute of
// them at once, refilled at perMinute a minute (a token bucket). It keeps at
// most maxClients clients: a full bucket is forgotten first, since it is
// what a new one starts as. It is safe for concurrent use.
type budgets struct {
	perMinute  float64
	maxClients int
	now        func() time.Time

	mu      sync.Mutex
	clients map[string]*bucket
}

type bucket struct {
	tokens float64
	at     time.Time
}

func newBudgets(perMinute, maxClients int, now func() time.Time) *budgets {
	return &budgets{perMinute: float64(perMinute), maxClients: maxClients, now: now, clients: map[string]*bucket{}}
}

// spend takes one rejection from client's budget. When the budget is spent
// it returns false and how long until it has room again.
func (b *budgets) spend(client string) (bool, time.Duration) {
	now := b.now()
	b.mu.Lock()
	defer b.mu.Unlock()
	bk := b.clients[client]
	if bk == nil {
		b.makeRoom(now)
		bk = &bucket{tokens: b.perMinute, at: now}
		b.clients[client] = bk
	}
	bk.tokens = min(b.perMinute, bk.tokens+now.Sub(bk.at).Minutes()*b.perMinute)
	bk.at = now
	if bk.tokens < 1 {
		return false, time.Duration((1 - bk.tokens) / b.perMinute * float64(time.Minute))
	}
	bk.tokens--
	return true, 0
}

// makeRoom forgets an eighth of the clients when there is no room for one
// more (amortized, one pass in maxClients/8 new clients): those whose budget
// has refilled, and others as the map hands them out. A client forgotten
// with its budget spent starts again with a full one.
func (b *budgets) makeRoom(now time.Time) {
	if len(b.clients) < b.maxClients {
		return
	}
	drop := max(1, b.maxClients/8)
	for k, bk := range b.clients {
		if drop == 0 {
			break
		}
		if bk.tokens+now.Sub(bk.at).Minutes()*b.perMinute >= b.perMinute || len(b.clients) >= b.maxClients {
			delete(b.clients, k)
			drop--
		}
	}
}
