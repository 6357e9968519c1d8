package sinks

import (
	"math/rand/v2"
	"time"
)

// backoff returns the wait before retry number attempt (0 for the first):
// min doubled attempt times, capped at max, with "equal jitter" (a random
// point in the upper half) so that sinks failing together do not retry in step.
func backoff(attempt int, min, max time.Duration) time.Duration {
	d := max
	if attempt < 32 && min<<attempt > 0 && min<<attempt < max {
		d = min << attempt
	}
	half := d / 2
	return half + rand.N(d-half+1)
}
