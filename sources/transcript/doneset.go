package transcript

// doneSet remembers the last n calls followed to their end, so discovery
// does not open them again; the oldest is forgotten first.
type doneSet struct {
	m    map[string]bool
	ring []string
	next int
}

func newDoneSet(n int) *doneSet {
	return &doneSet{m: make(map[string]bool, n), ring: make([]string, 0, n)}
}

func (d *doneSet) has(id string) bool { return d.m[id] }

func (d *doneSet) add(id string) {
	if d.m[id] {
		return
	}
	if len(d.ring) < cap(d.ring) {
		d.ring = append(d.ring, id)
	} else {
		delete(d.m, d.ring[d.next])
		d.ring[d.next] = id
		d.next = (d.next + 1) % len(d.ring)
	}
	d.m[id] = true
}
