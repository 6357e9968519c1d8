package main

import (
	"sync"
	"time"
)

// shutdownBudget is the time a shutdown has, CONNECTOR_SHUTDOWN_TIMEOUT in
// all: it starts when the first step asks, and every step after gets what
// is left, so SIGTERM ends within the timeout whatever a target does (a
// sink's batch cut short is delivered again by the next holder, exactly
// once). A part of it is kept for closing the journal, which goes last.
type shutdownBudget struct {
	total   time.Duration
	reserve time.Duration // kept for the journal
	once    sync.Once
	end     time.Time
}

func newShutdownBudget(total time.Duration) *shutdownBudget {
	return &shutdownBudget{total: total, reserve: min(total/5, 5*time.Second)}
}

// left returns what a step before the journal's close may take.
func (b *shutdownBudget) left() time.Duration {
	return max(b.until()-b.reserve, 0)
}

// last returns what the journal's close may take: all that is left.
func (b *shutdownBudget) last() time.Duration {
	return max(b.until(), time.Millisecond)
}

func (b *shutdownBudget) until() time.Duration {
	b.once.Do(func() { b.end = time.Now().Add(b.total) })
	return time.Until(b.end)
}
