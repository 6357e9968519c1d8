package bigquerysink

import (
	"fmt"
	"sync"

	connector "github.com/agentphone-connector/connector"
	"github.com/agentphone-connector/connector/sinks"
)

var _ sinks.Preparer = (*Sink)(nil)

// encoded is an event's rows in every table, serialized, or why it has
// none (its data does not decode into its kind: Permanent).
type encoded struct {
	rows [][][]byte // by table
	err  error
}

// prepared holds the rows Prepare encoded, by event, until a Write takes
// them. Prepare and Write run on different goroutines.
type prepared struct {
	mu sync.Mutex
	m  map[*connector.Event]*encoded
}

// Prepare serializes the rows of events ahead of their Write, which takes
// them instead of encoding the events itself (see sinks.Preparer).
func (s *Sink) Prepare(events []*connector.Event) {
	encs := make([]*encoded, len(events))
	for i, e := range events {
		encs[i] = s.encodeEvent(e)
	}
	s.prep.mu.Lock()
	defer s.prep.mu.Unlock()
	for i, e := range events {
		s.prep.m[e] = encs[i]
	}
}

// take returns the rows of e, as Prepare left them or encoded now.
func (s *Sink) take(e *connector.Event) *encoded {
	s.prep.mu.Lock()
	enc, ok := s.prep.m[e]
	delete(s.prep.m, e)
	s.prep.mu.Unlock()
	if !ok {
		enc = s.encodeEvent(e)
	}
	return enc
}

// forget drops what was prepared and not written (a term ended).
func (s *Sink) forget() {
	s.prep.mu.Lock()
	clear(s.prep.m)
	s.prep.mu.Unlock()
}

// encodeEvent serializes the rows of e in every table. It reads only what
// does not change after New, so Prepare may run it beside a Write.
func (s *Sink) encodeEvent(e *connector.Event) *encoded {
	enc := &encoded{rows: make([][][]byte, len(s.tables))}
	for ti, t := range s.tables {
		rs, err := t.rows(e)
		if err != nil {
			return &encoded{err: connector.Permanent(fmt.Errorf("bigquery %s row of %s: %w", t.Name, e.ID, err))}
		}
		for _, r := range rs {
			enc.rows[ti] = append(enc.rows[ti], t.encode(nil, r))
		}
	}
	return enc
}
