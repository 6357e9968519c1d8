package sinks

import (
	"testing"
	"time"
)

func TestBackoff(t *testing.T) {
	min, max := 100*time.Millisecond, 2*time.Second
	cases := []struct {
		attempt int
		full    time.Duration // the un-jittered wait; the result lies in its upper half
	}{
		{0, 100 * time.Millisecond},
		{1, 200 * time.Millisecond},
		{4, 1600 * time.Millisecond},
		{5, 2 * time.Second},
		{40, 2 * time.Second},
		{1000, 2 * time.Second},
	}
	for _, c := range cases {
		for range 50 {
			if got := backoff(c.attempt, min, max); got < c.full/2 || got > c.full {
				t.Fatalf("backoff(%d) = %s, want within [%s, %s]", c.attempt, got, c.full/2, c.full)
			}
		}
	}
}
