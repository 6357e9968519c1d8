package sinks_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	connector "github.com/agentphone-connector/connector"
	"github.com/agentphone-connector/connector/sinks"
	"github.com/agentphone-connector/connector/sinks/sinktest"
)

// TestPreparedBeforeWritten: a Preparer is handed every event, in journal
// order, before the Write that gets it.
func TestPreparedBeforeWritten(t *testing.T) {
	m := sinktest.NewMemory()
	pw := &preparing{Writer: m.Writer(), prepared: map[*connector.Event]bool{}}
	events := sinktest.Events("prep", 200, 7)
	f := newFixtureWith(t, events[:100], sinks.Settings{}, sinks.Sink{Name: "mem", Writer: pw, Batch: quick})
	f.j.Append(t, events[100:]...)
	if err := sinktest.CheckDelivered(events, waitReceived(t, m, len(events))); err != nil {
		t.Fatal(err)
	}
	pw.mu.Lock()
	defer pw.mu.Unlock()
	if pw.err != nil {
		t.Fatal(pw.err)
	}
	if len(pw.order) != len(events) {
		t.Fatalf("%d events prepared, want %d", len(pw.order), len(events))
	}
	for i, id := range pw.order {
		if id != events[i].ID {
			t.Fatalf("prepared #%d is %s, want %s: not in journal order", i, id, events[i].ID)
		}
	}
}

// preparing records what it is handed to prepare and fails a Write of an
// event it was not handed first.
type preparing struct {
	connector.Writer
	mu       sync.Mutex
	prepared map[*connector.Event]bool
	order    []string
	err      error
}

func (p *preparing) Prepare(events []*connector.Event) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, e := range events {
		p.prepared[e] = true
		p.order = append(p.order, e.ID)
	}
}

func (p *preparing) Write(ctx context.Context, batch []*connector.Event) error {
	p.mu.Lock()
	for _, e := range batch {
		if !p.prepared[e] && p.err == nil {
			p.err = fmt.Errorf("event %s written before it was prepared", e.ID)
		}
	}
	p.mu.Unlock()
	return p.Writer.Write(ctx, batch)
}

func (p *preparing) Resume(ctx context.Context, from sinks.Resume) error {
	return p.Writer.(sinks.Resumable).Resume(ctx, from)
}

func (p *preparing) Checkpoint() ([]byte, error) { return p.Writer.(sinks.Resumable).Checkpoint() }
