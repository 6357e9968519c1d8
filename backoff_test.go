package connector_test

import (
	"context"
	"errors"
	"testing"
	"time"

	connector "github.com/agentphone-connector/connector"
)

func TestBackoffGrowsToItsCap(t *testing.T) {
	b := connector.Backoff{Min: 100 * time.Millisecond, Max: time.Second}
	for n, hi := range []time.Duration{100, 200, 400, 800, 1000, 1000} {
		hi *= time.Millisecond
		if d := b.Delay(n); d < hi/2 || d > hi {
			t.Errorf("attempt %d waits %v, want within [%v, %v]", n, d, hi/2, hi)
		}
	}
	if d := b.Delay(1000); d > time.Second {
		t.Errorf("attempt 1000 waits %v", d)
	}
}

func TestSleepEndsWithItsContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := connector.Sleep(ctx, time.Hour); !errors.Is(err, context.Canceled) {
		t.Fatalf("Sleep on a cancelled context: %v", err)
	}
}
