// Package recent remembers the last keys added, up to a bound, and forgets
// the oldest first. It is the connector's one bounded set of recent keys:
// the dedupe guard's cache of journaled event IDs and the transcript
// source's calls followed to their end both keep theirs in a Set.
package recent

// Set remembers up to a fixed number of keys, each with a value. Adding a
// key to a full set forgets the key added longest ago, whatever was read
// since: it is first in, first out, not least recently used. A nil *Set, and
// a Set made with a size of 0 or less, remembers nothing.
//
// A Set is not safe for concurrent use; callers that share one lock around
// it.
type Set[K comparable, V any] struct {
	m    map[K]V
	ring []K // insertion order; ring[next] is the oldest once full
	next int
}

// New returns a Set that remembers up to n keys, or nil when n <= 0. Its
// memory is allocated at once: one map entry and one ring slot per key.
func New[K comparable, V any](n int) *Set[K, V] {
	if n <= 0 {
		return nil
	}
	return &Set[K, V]{m: make(map[K]V, n), ring: make([]K, 0, n)}
}

// Get returns the value of k, and whether the set remembers k.
func (s *Set[K, V]) Get(k K) (V, bool) {
	if s == nil {
		var zero V
		return zero, false
	}
	v, ok := s.m[k]
	return v, ok
}

// Has reports whether the set remembers k.
func (s *Set[K, V]) Has(k K) bool {
	_, ok := s.Get(k)
	return ok
}

// Add remembers k with v and reports true, forgetting the oldest key when
// the set is full. A key remembered already keeps its value and its place,
// and Add reports false.
func (s *Set[K, V]) Add(k K, v V) bool {
	if s == nil {
		return false
	}
	if _, ok := s.m[k]; ok {
		return false
	}
	if len(s.ring) < cap(s.ring) {
		s.ring = append(s.ring, k)
	} else {
		delete(s.m, s.ring[s.next])
		s.ring[s.next] = k
		s.next = (s.next + 1) % len(s.ring)
	}
	s.m[k] = v
	return true
}

// Len returns how many keys the set remembers.
func (s *Set[K, V]) Len() int {
	if s == nil {
		return 0
	}
	return len(s.m)
}
