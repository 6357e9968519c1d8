package connector

import (
	"context"
	"math/rand/v2"
	"time"
)

// Backoff is exponential backoff with jitter: attempt n waits a random
// duration between half and all of Min·2ⁿ, at most Max. It is the one
// backoff of the project: every retry loop takes its waits from it.
type Backoff struct {
	Min, Max time.Duration
}

// Delay returns the wait before retry attempt n (0 for the first retry).
func (b Backoff) Delay(n int) time.Duration {
	d := b.Min
	for i := 0; i < n && d < b.Max; i++ {
		d *= 2
	}
	if d = min(d, b.Max); d <= 0 {
		return 0
	}
	return d/2 + rand.N(d/2+1)
}

// Sleeper waits d, or returns ctx's error when ctx ends first. Tests pass
// one that moves a manual clock instead of waiting.
type Sleeper func(ctx context.Context, d time.Duration) error

// Sleep is the Sleeper on the real clock.
func Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
