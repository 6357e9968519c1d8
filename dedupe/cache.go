package dedupe

import (
	"hash/maphash"
	"sync"
	"time"

	"github.com/agentphone-connector/connector/recent"
)

// cache remembers about the last n committed IDs with their journal sequence
// and commit time. Each shard is a recent.Set: when full, its oldest is
// forgotten first. A nil *cache (size 0) remembers nothing.
//
// IDs are kept as 128-bit hashes: the maps hold no pointers, so the garbage
// collector does not scan them however large they are. Two IDs would have to
// collide in 128 bits for one to be taken for the other. The IDs are spread
// over shards, each with its own lock, so concurrent requests rarely wait.
type cache struct {
	seeds  [2]maphash.Seed
	shards [cacheShards]shard
}

const cacheShards = 16

type shard struct {
	mu  sync.Mutex
	set *recent.Set[key, entry] // the oldest forgotten first
}

type key [2]uint64

type entry struct {
	seq uint64
	at  int64 // unix nanoseconds
}

func newCache(n int) *cache {
	if n <= 0 {
		return nil
	}
	r := &cache{seeds: [2]maphash.Seed{maphash.MakeSeed(), maphash.MakeSeed()}}
	per := (n + cacheShards - 1) / cacheShards
	for i := range r.shards {
		r.shards[i] = shard{set: recent.New[key, entry](per)}
	}
	return r
}

func (r *cache) shard(k key) *shard { return &r.shards[k[0]%cacheShards] }

func (r *cache) key(id string) key {
	return key{maphash.String(r.seeds[0], id), maphash.String(r.seeds[1], id)}
}

// get returns the sequence of id if it was committed after notBefore.
func (r *cache) get(id string, notBefore time.Time) (uint64, bool) {
	if r == nil {
		return 0, false
	}
	k := r.key(id)
	s := r.shard(k)
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.set.Get(k)
	if !ok || e.at < notBefore.UnixNano() {
		return 0, false
	}
	return e.seq, true
}

func (r *cache) add(id string, seq uint64, at time.Time) {
	if r == nil {
		return
	}
	k := r.key(id)
	s := r.shard(k)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.set.Add(k, entry{seq: seq, at: at.UnixNano()})
}
