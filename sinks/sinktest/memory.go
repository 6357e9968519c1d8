package sinktest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	connector "github.com/agentphone-connector/connector"
	"github.com/agentphone-connector/connector/sinks"
)

// Memory is an in-memory target: the reference sink of the suite and the
// test double of the machinery's own tests. Every Writer it hands out writes
// to the same store, an append-only log. Its writers are exactly once the
// way the Kafka sink is: they remember how far the log reached after what
// they wrote, and after an unknown outcome or on Resume they read the log
// from there and skip the events they find. It is safe for concurrent use.
type Memory struct {
	mu      sync.Mutex
	got     []Received
	down    error          // while set, every write fails with it
	failIDs map[string]int // event ID → transient failures still to report
	lost    int            // writes still to store and then report as timed out
	writes  int
}

// ErrPoison is how Memory rejects events whose ID starts with "poison".
var ErrPoison = errors.New("sinktest: poisoned event")

// NewMemory returns an empty store.
func NewMemory() *Memory { return &Memory{failIDs: map[string]int{}} }

// Writer returns a writer to the store; it is a sinks.Resumable.
func (m *Memory) Writer() connector.Writer {
	m.mu.Lock()
	defer m.mu.Unlock()
	return &memWriter{m: m, known: len(m.got)}
}

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

// LoseAnswers makes the next n writes store their events and then fail as
// if they timed out: the writer does not know they landed.
func (m *Memory) LoseAnswers(n int) {
	m.mu.Lock()
	m.lost += n
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
	known  int                 // the log's length after this writer's last known outcome
	doubt  bool                // a write's outcome is unknown: read the log from known first
	skip   map[string]struct{} // events found in the log beyond the checkpoint
}

var errMemClosed = errors.New("sinktest: memory writer closed")

// errMemTimeout is the answer of a write whose answer was lost.
var errMemTimeout = errors.New("sinktest: memory write timed out (it landed)")

// Resume reads the log from the checkpoint's length on: what is there was
// written by an earlier holder and is skipped.
func (w *memWriter) Resume(ctx context.Context, from sinks.Resume) error {
	w.m.mu.Lock()
	defer w.m.mu.Unlock()
	w.skip = map[string]struct{}{}
	w.known, w.doubt = len(w.m.got), false
	if from.State == nil || from.Replayed {
		return nil
	}
	var st struct{ Len int }
	if err := json.Unmarshal(from.State, &st); err != nil {
		return err
	}
	w.known, w.doubt = st.Len, true
	w.readBackLocked()
	return nil
}

// Checkpoint is the log's length: everything written after it was written
// after this checkpoint.
func (w *memWriter) Checkpoint() ([]byte, error) {
	w.m.mu.Lock()
	defer w.m.mu.Unlock()
	return json.Marshal(struct{ Len int }{w.known})
}

// readBackLocked adds the events in the log beyond known to skip.
func (w *memWriter) readBackLocked() {
	if !w.doubt {
		return
	}
	if w.skip == nil {
		w.skip = map[string]struct{}{}
	}
	for _, r := range w.m.got[min(w.known, len(w.m.got)):] {
		w.skip[r.ID] = struct{}{}
	}
	w.known, w.doubt = len(w.m.got), false
}

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
	w.readBackLocked()
	errs := make(connector.WriteErrors, len(batch))
	held := map[string]bool{}
	for i, e := range batch {
		_, seen := w.skip[e.ID]
		switch {
		case seen: // kept: this answer may be lost too
			errs[i] = connector.ErrAlreadyWritten
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
		}
	}
	if m.lost > 0 {
		m.lost--
		w.doubt = true
		return errMemTimeout
	}
	w.known = len(m.got)
	for _, e := range errs {
		if e != nil {
			return errs
		}
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
func (m MemoryTarget) TimeoutAfterWrite(_ *testing.T, n int)      { m.M.LoseAnswers(n) }
func (m MemoryTarget) Outage(*testing.T) func() {
	m.M.SetDown(errors.New("sinktest: memory target down"))
	return func() { m.M.SetDown(nil) }
}
