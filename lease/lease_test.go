package lease_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/agentphone-connector/connector/lease"
	"github.com/agentphone-connector/connector/natsserver/natsservertest"
)

// clock is a time.Now that a test can move forward: a holder frozen, then
// running on.
type clock struct {
	mu   sync.Mutex
	skew time.Duration
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return time.Now().Add(c.skew) }
func (c *clock) jump(d time.Duration) {
	c.mu.Lock()
	c.skew += d
	c.mu.Unlock()
}

func startJS(t *testing.T) jetstream.JetStream {
	t.Helper()
	js, _ := natsservertest.JetStream(t, natsservertest.Embedded(t, nil), nats.MaxReconnects(-1))
	return js
}

const ttl = 2 * time.Second

func open(t *testing.T, js jetstream.JetStream, holder string, now func() time.Time) *lease.Bucket {
	t.Helper()
	b, err := lease.Open(context.Background(), js, lease.Config{Bucket: "LEASES", TTL: ttl, Memory: true}, lease.Settings{Holder: holder, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestAcquireHeldReleased(t *testing.T) {
	ctx := context.Background()
	js := startJS(t)
	a, b := open(t, js, "a", nil), open(t, js, "b", nil)
	la, err := a.Acquire(ctx, "k")
	if err != nil {
		t.Fatal(err)
	}
	if la.Left() <= ttl/2 {
		t.Fatalf("left %s after acquiring a %s lease", la.Left(), ttl)
	}
	var held *lease.HeldError
	if _, err := b.Acquire(ctx, "k"); !errors.As(err, &held) || held.Holder != "a" || !errors.Is(err, lease.ErrHeld) {
		t.Fatalf("b acquired a held key: %v", err)
	}
	if holder, _, err := b.Who(ctx, "k"); err != nil || holder != "a" {
		t.Fatalf("Who = %q, %v", holder, err)
	}
	if err := la.Release(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Acquire(ctx, "k"); err != nil {
		t.Fatalf("b could not take a released key: %v", err)
	}
	if err := la.Renew(ctx); !errors.Is(err, lease.ErrLost) {
		t.Fatalf("a renewed a released lease taken by b: %v", err)
	}
}

// TestSameNameTakesBack: a replica restarted under its name takes its key
// back at once, without waiting for the entry to lapse; the old lease is lost.
func TestSameNameTakesBack(t *testing.T) {
	ctx := context.Background()
	js := startJS(t)
	if _, err := open(t, js, "a", nil).Acquire(ctx, "k"); err != nil {
		t.Fatal(err)
	}
	again, err := open(t, js, "a", nil).Acquire(ctx, "k")
	if err != nil {
		t.Fatalf("same name: %v", err)
	}
	if again.Left() <= 0 {
		t.Fatal("taken back without time to act")
	}
}

// TestLapsedKeyIsFree: a holder that stops renewing loses the key to
// another after the TTL, by the servers' expiry and not by any clock.
func TestLapsedKeyIsFree(t *testing.T) {
	ctx := context.Background()
	js := startJS(t)
	a, b := open(t, js, "a", nil), open(t, js, "b", nil)
	if _, err := a.Acquire(ctx, "k"); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	deadline := start.Add(3 * ttl)
	poll := time.NewTicker(ttl / 20) // asking the servers, as a standby does
	defer poll.Stop()
	for {
		_, err := b.Acquire(ctx, "k")
		if err == nil {
			break
		}
		if !errors.Is(err, lease.ErrHeld) || time.Now().After(deadline) {
			t.Fatalf("b: %v after %s", err, time.Since(start))
		}
		<-poll.C
	}
	if waited := time.Since(start); waited < ttl*4/5 {
		t.Fatalf("taken after %s, before the entry could lapse (%s)", waited, ttl)
	}
}

// TestNoRenewalAfterSafeTime: a holder whose clock jumped past its safe time
// (frozen, then resumed) may not act, and may not renew: it must acquire again.
func TestNoRenewalAfterSafeTime(t *testing.T) {
	ctx := context.Background()
	js := startJS(t)
	c := &clock{}
	l, err := open(t, js, "a", c.now).Acquire(ctx, "k")
	if err != nil {
		t.Fatal(err)
	}
	c.jump(ttl)
	if l.Left() > 0 {
		t.Fatalf("left %s after the clock passed the TTL", l.Left())
	}
	if err := l.Renew(ctx); !errors.Is(err, lease.ErrLost) {
		t.Fatalf("renewed after the safe time: %v", err)
	}
	kctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := l.Keep(kctx); !errors.Is(err, lease.ErrLost) {
		t.Fatalf("Keep = %v, want the lease lost", err)
	}
}

// TestFinish keeps a key under its holder's name with a state that Acquire
// reports, even to that holder.
func TestFinish(t *testing.T) {
	ctx := context.Background()
	js := startJS(t)
	a := open(t, js, "a", nil)
	l, err := a.Acquire(ctx, "call")
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Finish(ctx, "ended"); err != nil {
		t.Fatal(err)
	}
	var held *lease.HeldError
	if _, err := a.Acquire(ctx, "call"); !errors.As(err, &held) || held.State != "ended" {
		t.Fatalf("Acquire after Finish = %v", err)
	}
}

// TestKeepRenews holds a key past its TTL by renewing it.
func TestKeepRenews(t *testing.T) {
	ctx := context.Background()
	js := startJS(t)
	a, b := open(t, js, "a", nil), open(t, js, "b", nil)
	l, err := a.Acquire(ctx, "k")
	if err != nil {
		t.Fatal(err)
	}
	kctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- l.Keep(kctx) }()
	timer := time.NewTimer(2 * ttl)
	defer timer.Stop()
	select {
	case err := <-done:
		t.Fatalf("Keep ended: %v", err)
	case <-timer.C:
	}
	if _, err := b.Acquire(ctx, "k"); !errors.Is(err, lease.ErrHeld) {
		t.Fatalf("b acquired a kept lease: %v", err)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Keep after cancel = %v", err)
	}
}
