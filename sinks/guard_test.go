package sinks_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	connector "github.com/agentphone-connector/connector"
	"github.com/agentphone-connector/connector/sinks"
	"github.com/agentphone-connector/connector/sinks/sinktest"
)

// TestDeadLetterPublishRetried takes the dead-letter stream away while a
// poisoned event is to be dead-lettered: the publish fails, the batch is
// not committed, and once the stream is back the event reaches it. A sink
// that dropped the event when its publish failed would lose it.
func TestDeadLetterPublishRetried(t *testing.T) {
	m := sinktest.NewMemory()
	f := newFixture(t, sinks.Settings{}, sinks.Sink{Name: "mem", Writer: m.Writer(), Batch: quick})
	cfg := sinktest.Config().DeadLetter
	ctx := context.Background()
	if err := f.js.DeleteStream(ctx, cfg.Stream); err != nil {
		t.Fatal(err)
	}
	events := sinktest.Events("dlq", 6, 2)
	poison := sinktest.MemoryTarget{M: m}.Poison(events[2])
	f.j.Append(t, events...)
	f.waitStatus(t, "mem", "retrying the dead letter", func(s sinks.Status) bool {
		return s.State == sinks.StateRetrying && strings.Contains(s.LastError, "dead-letter") && s.FailedAttempts >= 2
	})
	if st := f.status("mem"); st.Pending == 0 || st.DeadLettered != 0 {
		t.Fatalf("committed while the dead letter was not stored: %s", st)
	}
	if _, err := f.js.CreateStream(ctx, sinks.DeadLetterStreamConfig(cfg)); err != nil {
		t.Fatal(err)
	}
	dead := f.j.WaitDeadLetters(t, cfg, 1)
	if id := dead[0].Header.Get(sinks.HeaderEventID); id != poison.ID {
		t.Fatalf("dead letter of %q, want %q", id, poison.ID)
	}
	f.waitStatus(t, "mem", "all committed", func(s sinks.Status) bool { return s.Pending == 0 && s.DeadLettered == 1 })
	want := append(append([]*connector.Event(nil), events[:2]...), events[3:]...)
	if err := sinktest.CheckDelivered(want, m.Received()); err != nil {
		t.Fatal(err)
	}
}

// clock is a time.Now that a test moves forward: the replica's process
// froze (a paused VM) and runs on.
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

// callWriter fails every write transiently and counts the writes that
// were started with a context already ended: the work of a holder that
// may no longer act.
type callWriter struct {
	mu           sync.Mutex
	calls, stale int
}

func (w *callWriter) Write(ctx context.Context, _ []*connector.Event) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.calls++
	if ctx.Err() != nil {
		w.stale++
	}
	return errors.New("target refuses for now")
}
func (w *callWriter) Close(context.Context) error { return nil }

func (w *callWriter) counts() (calls, stale int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.calls, w.stale
}

// TestNoWriteAfterSafeTime: a holder whose clock passed the end of its
// lease's safe time (it froze, and its renewal is late) starts no write,
// not even the retry of a failing batch, until it has a lease again.
func TestNoWriteAfterSafeTime(t *testing.T) {
	c := &clock{}
	w := &callWriter{}
	f := newFixtureWith(t, sinktest.Events("frozen", 5, 1), sinks.Settings{Now: c.now}, sinks.Sink{Name: "mem", Writer: w, Batch: quick})
	f.waitStatus(t, "mem", "retrying", func(s sinks.Status) bool { return s.State == sinks.StateRetrying && s.FailedAttempts >= 3 })
	c.jump(sinktest.LeaseTTL)
	sinktest.Eventually(t, 20*time.Second, func() bool { return counter(t, f.reg, "connector_sink_lease_changes_total", "lost") >= 1 },
		func() string { return "the lease was never lost after the clock jumped" })
	if calls, stale := w.counts(); stale > 0 {
		t.Fatalf("%d of %d writes started after the lease's safe time had passed", stale, calls)
	}
}
