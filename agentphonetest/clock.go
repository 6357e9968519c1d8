package agentphonetest

import (
	"context"
	"time"
)

// Clock is the test server's time. Now stamps everything the server reports
// (X-Webhook-Timestamp, the deliveries log, live calls, rate-limit windows);
// NewTimer is every wait (retry delays after Options.TimeScale is applied,
// heartbeats). Response timeouts of webhook attempts are real time whatever
// the clock.
type Clock interface {
	Now() time.Time
	// NewTimer returns a timer whose channel receives once d has passed on
	// this clock. d <= 0 fires at once.
	NewTimer(d time.Duration) Timer
}

// Timer is a pending wait of a Clock.
type Timer interface {
	// C returns the channel that receives the time when the timer fires.
	C() <-chan time.Time
	// Stop cancels the timer; it reports whether the timer was still pending.
	Stop() bool
}

// SystemClock returns the real clock: time.Now and time.NewTimer.
func SystemClock() Clock { return systemClock{} }

type systemClock struct{}

func (systemClock) Now() time.Time { return time.Now() }

func (systemClock) NewTimer(d time.Duration) Timer { return systemTimer{time.NewTimer(d)} }

type systemTimer struct{ t *time.Timer }

func (t systemTimer) C() <-chan time.Time { return t.t.C }
func (t systemTimer) Stop() bool          { return t.t.Stop() }

// sleep waits d on clock, or until ctx is done (returning its error).
func sleep(ctx context.Context, clock Clock, d time.Duration) error {
	t := clock.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C():
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// scaled returns d multiplied by scale, at least 1ns when d is positive so a
// scaled wait still yields to the scheduler's ordering.
func scaled(d time.Duration, scale float64) time.Duration {
	if d <= 0 {
		return 0
	}
	return max(time.Duration(float64(d)*scale), time.Nanosecond)
}
