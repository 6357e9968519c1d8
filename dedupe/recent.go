package dedupe

import (
	"sync"
	"time"
)

// recent remembers the last n committed IDs with their journal sequence and
// commit time. When full, the oldest is forgotten first. A nil *recent (size
// 0) remembers nothing.
type recent struct {
	mu   sync.Mutex
	m    map[string]entry
	ring []string // insertion order; ring[next] is the oldest when full
	next int
}

type entry struct {
	seq uint64
	at  int64 // unix nanoseconds
}

func newRecent(n int) *recent {
	if n <= 0 {
		return nil
	}
	return &recent{m: make(map[string]entry, n), ring: make([]string, 0, n)}
}

// get returns the sequence of id if it was committed after notBefore.
func (r *recent) get(id string, notBefore time.Time) (uint64, bool) {
	if r == nil {
		return 0, false
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	e, ok := r.m[id]
	if !ok || e.at < notBefore.UnixNano() {
		return 0, false
	}
	return e.seq, true
}

func (r *recent) add(id string, seq uint64, at time.Time) {
	if r == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.m[id]; ok {
		return
	}
	if len(r.ring) < cap(r.ring) {
		r.ring = append(r.ring, id)
	} else {
		delete(r.m, r.ring[r.next])
		r.ring[r.next] = id
		r.next = (r.next + 1) % len(r.ring)
	}
	r.m[id] = entry{seq: seq, at: at.UnixNano()}
}
