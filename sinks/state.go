package sinks

import (
	"log/slog"
	"sync"
	"time"
)

// State is where a sink's delivery loop is.
type State string

// States of a sink.
const (
	StateIdle       State = "idle"       // created, not started
	StateDelivering State = "delivering" // reading the journal and writing to the target
	StateRetrying   State = "retrying"   // the target or the journal fails; the batch is retried in place
	StateStopped    State = "stopped"    // closed
)

// tracker holds a sink's state and counters, logs each change of state (not
// each attempt) and keeps the healthy gauge in step.
type tracker struct {
	name    string
	log     *slog.Logger
	now     func() time.Time
	healthy func(float64)

	mu       sync.Mutex
	state    State
	since    time.Time
	lastErr  string
	failures int // failed attempts since the state became retrying
	counts   counts
}

type counts struct{ delivered, failed, dead uint64 }

func newTracker(name string, log *slog.Logger, now func() time.Time, healthy func(float64)) *tracker {
	return &tracker{name: name, log: log, now: now, healthy: healthy, state: StateIdle, since: now()}
}

// set moves to state s; it logs only when the state changes.
func (t *tracker) set(s State) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.state == s {
		return
	}
	prev, since, failures := t.state, t.since, t.failures
	t.state, t.since, t.failures = s, t.now(), 0
	t.healthy(boolGauge(s == StateDelivering))
	switch {
	case prev == StateRetrying && s == StateDelivering:
		t.log.Info("sink recovered", "sink", t.name, "down_for", t.since.Sub(since).Round(time.Millisecond).String(), "failed_attempts", failures)
	case s == StateDelivering:
		t.log.Info("sink delivering", "sink", t.name)
	case s == StateStopped:
		t.log.Info("sink stopped", "sink", t.name)
	}
}

// fail records a failed attempt; the first one of a run logs the move to retrying.
func (t *tracker) fail(err error, retryIn time.Duration) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.lastErr = err.Error()
	if t.state != StateRetrying {
		t.state, t.since, t.failures = StateRetrying, t.now(), 0
		t.healthy(0)
		t.log.Warn("sink failing, retrying in place; its backlog waits in the journal", "sink", t.name, "error", err, "retry_in", retryIn.Round(time.Millisecond).String())
	}
	t.failures++
}

func (t *tracker) add(c counts) {
	t.mu.Lock()
	t.counts.delivered += c.delivered
	t.counts.failed += c.failed
	t.counts.dead += c.dead
	t.mu.Unlock()
}

// snapshot fills the tracker's part of a Status.
func (t *tracker) snapshot() Status {
	t.mu.Lock()
	defer t.mu.Unlock()
	return Status{
		Sink: t.name, State: t.state, Since: t.since, LastError: t.lastErr, FailedAttempts: t.failures,
		Delivered: t.counts.delivered, FailedWrites: t.counts.failed, DeadLettered: t.counts.dead,
	}
}

func boolGauge(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
