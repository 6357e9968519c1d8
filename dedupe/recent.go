package dedupe

import (
	"hash/maphash"
	"sync"
	"time"
)

// recent remembers the last n committed IDs with their journal sequence and
// commit time. When full, the oldest is forgotten first. A nil *recent (size
// 0) remembers nothing.
//
// IDs are kept as 128-bit hashes: the map holds no pointers, so the garbage
// collector does not scan it however large it is. Two IDs would have to
// collide in 128 bits for one to be taken for the other.
type recent struct {
	seeds [2]maphash.Seed
	mu    sync.Mutex
	m     map[key]entry
	ring  []key // insertion order; ring[next] is the oldest when full
	next  int
}

type key [2]uint64

type entry struct {
	seq uint64
	at  int64 // unix nanoseconds
}

func newRecent(n int) *recent {
	if n <= 0 {
		return nil
	}
	return &recent{
		seeds: [2]maphash.Seed{maphash.MakeSeed(), maphash.MakeSeed()},
		m:     make(map[key]entry, n),
		ring:  make([]key, 0, n),
	}
}

func (r *recent) key(id string) key {
	return key{maphash.String(r.seeds[0], id), maphash.String(r.seeds[1], id)}
}

// get returns the sequence of id if it was committed after notBefore.
func (r *recent) get(id string, notBefore time.Time) (uint64, bool) {
	if r == nil {
		return 0, false
	}
	k := r.key(id)
	r.mu.Lock()
	defer r.mu.Unlock()
	e, ok := r.m[k]
	if !ok || e.at < notBefore.UnixNano() {
		return 0, false
	}
	return e.seq, true
}

func (r *recent) add(id string, seq uint64, at time.Time) {
	if r == nil {
		return
	}
	k := r.key(id)
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.m[k]; ok {
		return
	}
	if len(r.ring) < cap(r.ring) {
		r.ring = append(r.ring, k)
	} else {
		delete(r.m, r.ring[r.next])
		r.ring[r.next] = k
		r.next = (r.next + 1) % len(r.ring)
	}
	r.m[k] = entry{seq: seq, at: at.UnixNano()}
}
