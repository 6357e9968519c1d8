package bigquerysink

import (
	"context"
	"errors"
	"testing"

	connector "github.com/agentphone-connector/connector"
	"github.com/agentphone-connector/connector/sinks"
)

// preparedCount is how many events hold rows Prepare encoded.
func (s *Sink) preparedCount() int {
	s.prep.mu.Lock()
	defer s.prep.mu.Unlock()
	return len(s.prep.m)
}

// TestPrepareThenWrite: rows prepared ahead are what Write appends, each
// once, and Write takes them; a new term drops what was prepared and not
// written.
func TestPrepareThenWrite(t *testing.T) {
	srv, addr := fakeBigQuery(t)
	s := newTestSink(t, addr, StreamCommitted)
	events := simulate(3, 20, 60, 10)

	// What Write appends is what Prepare left, not an encoding of its own.
	marked := errors.New("marked in preparation")
	s.Prepare(events[:1])
	s.prep.m[events[0]] = &encoded{err: connector.Permanent(marked)}
	if err := s.Write(context.Background(), events[:1]); !errors.Is(connector.ErrorAt(err, 0), marked) {
		t.Fatalf("Write of a prepared event = %v, want what was prepared", err)
	}

	s.Prepare(events[:100])
	if n := s.preparedCount(); n != 100 {
		t.Fatalf("%d events prepared, want 100", n)
	}
	writeAll(t, s, events, 50)
	if n := s.preparedCount(); n != 0 {
		t.Fatalf("%d events still prepared after their write", n)
	}
	assertOnce(t, srv, events)

	s.Prepare(events[:10])
	if err := s.Resume(context.Background(), sinks.Resume{}); err != nil {
		t.Fatal(err)
	}
	if n := s.preparedCount(); n != 0 {
		t.Fatalf("%d events still prepared after Resume", n)
	}
}
