package agentphonetest

import (
	"context"
	"slices"
	"sync"
	"time"
)

// ManualClock is a Clock that moves only when told to, so a test can walk a
// delivery through AgentPhone's whole retry schedule without waiting: wait for
// the server to set a timer (WaitTimers), then jump to it (AdvanceToNext).
// It is safe for concurrent use.
type ManualClock struct {
	mu      sync.Mutex
	now     time.Time
	timers  []*manualTimer // pending, in the order they were set
	changed chan struct{}  // closed and replaced whenever timers change
}

// NewManualClock returns a clock that reads start until advanced.
func NewManualClock(start time.Time) *ManualClock {
	return &ManualClock{now: start, changed: make(chan struct{})}
}

type manualTimer struct {
	clock *ManualClock
	at    time.Time
	ch    chan time.Time
}

// Now returns the clock's current time.
func (c *ManualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// NewTimer returns a timer that fires when the clock has been advanced by d.
func (c *ManualClock) NewTimer(d time.Duration) Timer {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := &manualTimer{clock: c, at: c.now.Add(d), ch: make(chan time.Time, 1)}
	if d <= 0 {
		t.ch <- c.now
		return t
	}
	c.timers = append(c.timers, t)
	c.notifyLocked()
	return t
}

func (t *manualTimer) C() <-chan time.Time { return t.ch }

func (t *manualTimer) Stop() bool {
	c := t.clock
	c.mu.Lock()
	defer c.mu.Unlock()
	i := slices.Index(c.timers, t)
	if i < 0 {
		return false
	}
	c.timers = slices.Delete(c.timers, i, i+1)
	c.notifyLocked()
	return true
}

// Advance moves the clock forward by d and fires every timer that is due,
// earliest first.
func (c *ManualClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	kept := c.timers[:0]
	var due []*manualTimer
	for _, t := range c.timers {
		if t.at.After(c.now) {
			kept = append(kept, t)
		} else {
			due = append(due, t)
		}
	}
	clear(c.timers[len(kept):])
	c.timers = kept
	slices.SortStableFunc(due, func(a, b *manualTimer) int { return a.at.Compare(b.at) })
	for _, t := range due {
		t.ch <- c.now
	}
	if len(due) > 0 {
		c.notifyLocked()
	}
}

// Next reports how far ahead the earliest pending timer is, and whether there
// is one.
func (c *ManualClock) Next() (time.Duration, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.timers) == 0 {
		return 0, false
	}
	earliest := c.timers[0].at
	for _, t := range c.timers[1:] {
		if t.at.Before(earliest) {
			earliest = t.at
		}
	}
	return earliest.Sub(c.now), true
}

// AdvanceToNext moves the clock to the earliest pending timer and fires it.
// It returns how far the clock moved, and false when no timer was pending.
func (c *ManualClock) AdvanceToNext() (time.Duration, bool) {
	d, ok := c.Next()
	if ok {
		c.Advance(d)
	}
	return d, ok
}

// Timers returns the number of pending timers.
func (c *ManualClock) Timers() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.timers)
}

// WaitTimers blocks until at least n timers are pending, or ctx is done.
func (c *ManualClock) WaitTimers(ctx context.Context, n int) error {
	for {
		c.mu.Lock()
		pending, changed := len(c.timers), c.changed
		c.mu.Unlock()
		if pending >= n {
			return nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func (c *ManualClock) notifyLocked() {
	close(c.changed)
	c.changed = make(chan struct{})
}
