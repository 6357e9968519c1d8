package sinktest

import (
	"strconv"
	"testing"
	"time"
)

// Eventually waits until cond holds, checking it every few milliseconds, and
// fails the test with what() if it does not hold within timeout.
func Eventually(t testing.TB, timeout time.Duration, cond func() bool, what func() string) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not within %s: %s", timeout, what())
		}
		<-tick.C
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
