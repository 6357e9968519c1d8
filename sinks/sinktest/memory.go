package sinktest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	connector "github.com/agentphone-connector/connector"
)

// Memory is an in-memory target: the reference sink of the suite and the
// test double of the machinery's own tests. Every Writer it hands out writes
// to the same store. It is safe for concurrent use.
type Memory struct {
	mu      sync.Mutex
	got     []Received
	down    error          // while set, every write fails with it
	failIDs map[string]int // event ID → transient failures still to report
	writes  int
}

// ErrPoison is how Memory rejects events whose ID starts with "poison".
var ErrPoison = errors.New("sinktest: poisoned event")

// NewMemory returns an empty store.
func NewMemory() *Memory { return &Memory{failIDs: map[string]int{}} }

// Writer returns a connector.Writer to the store.
func (m *Memory) Writer() connector.Writer { return &memWriter{m: m} }

// SetDown makes every write fail with err (transient) until SetDown(nil).
func (m *Memory) SetDown(err error) {
	m.mu.Lock()
	m.down = err
	m.mu.Unlock()
}

// FailID makes the next n writes of the event fail transiently.
func (m *Memory) FailID(id string, n int) {
	m.mu.Lock()
	m.failIDs[id] = n
	m.mu.Unlock()
}

// Received returns what was written, in order.
func (m *Memory) Received() []Received {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]Received(nil), m.got...)
}

// Writes returns how many Write calls reached the store.
func (m *Memory) Writes() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.writes
}

type memWriter struct {
	m      *Memory
	closed bool
}

var errMemClosed = errors.New("sinktest: memory writer closed")

// Write keeps per-key order as the contract asks: once an event of a key
// fails, the key's later events of the batch fail too.
func (w *memWriter) Write(ctx context.Context, batch []*connector.Event) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m := w.m
	m.mu.Lock()
	defer m.mu.Unlock()
	if w.closed {
		return errMemClosed
	}
	m.writes++
	if m.down != nil {
		return m.down
	}
	errs := make(connector.WriteErrors, len(batch))
	held, failed := map[string]bool{}, false
	for i, e := range batch {
		switch {
		case strings.HasPrefix(e.ID, "poison"):
			errs[i] = connector.Permanent(ErrPoison)
		case held[e.Subject]:
			errs[i] = fmt.Errorf("held back: an earlier event of %s failed", e.Subject)
		case m.failIDs[e.ID] > 0:
			m.failIDs[e.ID]--
			errs[i] = fmt.Errorf("injected failure of %s", e.ID)
			held[e.Subject] = true
		default:
			m.got = append(m.got, Received{ID: e.ID, Key: e.Subject})
			continue
		}
		failed = true
	}
	if failed {
		return errs
	}
	return nil
}

func (w *memWriter) Close(context.Context) error {
	w.m.mu.Lock()
	w.closed = true
	w.m.mu.Unlock()
	return nil
}

// MemoryTarget runs the suite against Memory.
type MemoryTarget struct{ M *Memory }

// NewMemoryTarget returns a Target on a new Memory.
func NewMemoryTarget(*testing.T) Target { return MemoryTarget{NewMemory()} }

// The Target methods: the sink is "memory", Poison gives an event an ID
// that Memory refuses, Outage makes Memory fail every write until restore.
func (m MemoryTarget) Name() string                               { return "memory" }
func (m MemoryTarget) NewWriter(*testing.T) connector.Writer      { return m.M.Writer() }
func (m MemoryTarget) Read(*testing.T) []Received                 { return m.M.Received() }
func (m MemoryTarget) Poison(e *connector.Event) *connector.Event { e.ID = "poison-" + e.ID; return e }
func (m MemoryTarget) Idempotent() bool                           { return false }
func (m MemoryTarget) Outage(*testing.T) func() {
	m.M.SetDown(errors.New("sinktest: memory target down"))
	return func() { m.M.SetDown(nil) }
}
