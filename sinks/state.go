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
	StateStandby    State = "standby"    // another replica delivers the sink; this one takes over if it stops
	StateDelivering State = "delivering" // reading the journal and writing to the target
	StateRetrying   State = "retrying"   // the target, the journal or the lease fails; the batch is retried in place
	StateStopped    State = "stopped"    // closed
)

// Role is what this replica does for a sink.
type Role string

// Roles of a replica.
const (
	RoleHolder  Role = "holder"  // holds the sink's lease and delivers it
	RoleStandby Role = "standby" // waits for the lease
)

// tracker holds a sink's state and counters, logs each change of state (not
// each attempt) and keeps the healthy gauge in step.
type tracker struct {
	name    string
	replica string
	log     *slog.Logger
	now     func() time.Time
	healthy func(float64)

	mu       sync.Mutex
	role     Role
	holder   string // the lease's holder, as last seen
	state    State
	since    time.Time
	lastErr  string
	failures int // failed attempts since the state became retrying
	counts   counts
}

type counts struct{ delivered, failed, dead, skipped uint64 }

func newTracker(name, replica string, log *slog.Logger, now func() time.Time, healthy func(float64)) *tracker {
	return &tracker{name: name, replica: replica, log: log, now: now, healthy: healthy, state: StateIdle, since: now()}
}

// standBy records that holder (another replica) holds the lease; it logs
// when this replica starts standing by or the holder changes.
func (t *tracker) standBy(holder string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.role == RoleStandby && t.holder == holder && t.state == StateStandby {
		return
	}
	t.role, t.holder = RoleStandby, holder
	t.moveLocked(StateStandby)
	t.log.Info("sink standing by; another replica delivers it", "sink", t.name, "replica", t.replica, "holder", holder)
}

// lose records that this replica lost the lease: it stands by.
func (t *tracker) lose() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.role, t.holder = RoleStandby, ""
	t.moveLocked(StateStandby)
}

// hold records that this replica holds the lease and delivers.
func (t *tracker) hold() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.role, t.holder = RoleHolder, t.replica
	t.moveLocked(StateDelivering)
	t.log.Info("sink lease acquired; delivering", "sink", t.name, "replica", t.replica)
}

// set moves to state s; it logs only when the state changes.
func (t *tracker) set(s State) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.state == s {
		return
	}
	prev, since, failures := t.state, t.since, t.failures
	t.moveLocked(s)
	switch {
	case prev == StateRetrying && s == StateDelivering:
		t.log.Info("sink recovered", "sink", t.name, "down_for", t.since.Sub(since).Round(time.Millisecond).String(), "failed_attempts", failures)
	case s == StateDelivering:
		t.log.Info("sink delivering", "sink", t.name)
	case s == StateStopped:
		t.role = ""
		t.log.Info("sink stopped", "sink", t.name)
	}
}

// moveLocked moves to state s and keeps the healthy gauge in step.
func (t *tracker) moveLocked(s State) {
	t.state, t.since, t.failures = s, t.now(), 0
	t.healthy(boolGauge(s == StateDelivering || s == StateStandby))
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
	t.counts.skipped += c.skipped
	t.mu.Unlock()
}

// snapshot fills the tracker's part of a Status.
func (t *tracker) snapshot() Status {
	t.mu.Lock()
	defer t.mu.Unlock()
	return Status{
		Sink: t.name, Replica: t.replica, Role: t.role, Holder: t.holder, State: t.state, Since: t.since, LastError: t.lastErr, FailedAttempts: t.failures,
		Delivered: t.counts.delivered, FailedWrites: t.counts.failed, DeadLettered: t.counts.dead, Skipped: t.counts.skipped,
	}
}

func boolGauge(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
