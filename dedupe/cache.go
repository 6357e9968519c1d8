package dedupe

import (
	"hash/maphash"
	"sync"
	"time"
)

// recent remembers about the last n committed IDs with their journal sequence
// and commit time. When a shard is full, its oldest is forgotten first. A nil *recent (size
// 0) remembers nothing.
//
// IDs are kept as 128-bit hashes: the maps hold no pointers, so the garbage
// collector does not scan them however large they are. Two IDs would have to
// collide in 128 bits for one to be taken for the other. The IDs are spread
// over shards, each with its own lock, so concurrent requests rarely wait.
type recent struct {
	seeds  [2]maphash.Seed
	shards [recentShards]shard
}

const recentShards = 16

type shard struct {
	mu   sync.Mutex
	m    map[key]entry
	ring []key // insertion order; ring[next] is the oldest when full
	next int
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
	r := &recent{seeds: [2]maphash.Seed{maphash.MakeSeed(), maphash.MakeSeed()}}
	per := (n + recentShards - 1) / recentShards
	for i := range r.shards {
		r.shards[i] = shard{m: make(map[key]entry, per), ring: make([]key, 0, per)}
	}
	return r
}

func (r *recent) shard(k key) *shard { return &r.shards[k[0]%recentShards] }

func (r *recent) key(id string) key {
	return key{maphash.String(r.seeds[0], id), maphash.String(r.seeds[1], id)}
}

// get returns the sequence of id if it was committed after notBefore.
func (r *recent) get(id string, notBefore time.Time) (uint64, bool) {
	if r == nil {
		return 0, false
	}
	k := r.key(id)
	s := r.shard(k)
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.m[k]
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
	s := r.shard(k)
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.m[k]; ok {
		return
	}
	if len(s.ring) < cap(s.ring) {
		s.ring = append(s.ring, k)
	} else {
		delete(s.m, s.ring[s.next])
		s.ring[s.next] = k
		s.next = (s.next + 1) % len(s.ring)
	}
	s.m[k] = entry{seq: seq, at: at.UnixNano()}
}
