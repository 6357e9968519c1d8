package sinktest

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	connector "github.com/agentphone-connector/connector"
	"github.com/agentphone-connector/connector/sinks"
)

// The cases of the suite where a write's outcome is unknown to the writer
// or to the replica: a target that times out after writing, a holder
// killed in the middle of a batch (replaced by another replica, or
// restarted under its name), and a close while the target is gone. Each
// ends with every event in the target exactly once.

// timesOutAfterWriting has the target store writes and answer as if they
// had timed out.
func timesOutAfterWriting(t *testing.T, h *harness) {
	events := Events("lost", 120, 6)
	h.journal.Append(t, events[:40]...)
	r, _ := h.runner(t, sinks.Batching{Size: 20, Wait: 10 * time.Millisecond}, h.target.NewWriter(t))
	start(t, r)
	h.waitAll(t, events[:40])
	waitStatus(t, r, "first 40 committed", func(s sinks.Status) bool { return s.Pending == 0 })
	h.target.TimeoutAfterWrite(t, 3)
	h.journal.Append(t, events[40:]...)
	st := h.exactlyOnce(t, r, events)
	if st.FailedWrites == 0 || st.Skipped == 0 {
		t.Fatalf("want failed writes and events found already written: %s", st)
	}
	t.Logf("after writes that timed out: %s", st)
}

// killedMidBatchTakenOver kills the holder after the first half of its
// second batch reached the target; another replica takes over once the
// lease lapses.
func killedMidBatchTakenOver(t *testing.T, h *harness) {
	events := Events("kill", 100, 5)
	h.journal.Append(t, events...)
	killed := h.killMidBatch(t)
	r2, _ := h.replica(t, "b", sinks.Batching{Size: 25, Wait: 10 * time.Millisecond}, h.target.NewWriter(t))
	start(t, r2)
	waitStatus(t, r2, "holder", func(s sinks.Status) bool { return s.Role == sinks.RoleHolder })
	// The dead holder's lease lapses at most a TTL after its last renewal,
	// which came before it died; the standby asks every twentieth of it.
	took := time.Since(killed)
	if took > LeaseTTL+LeaseTTL/10 {
		t.Fatalf("another replica took the sink %s after the holder died (lease TTL %s)", took, LeaseTTL)
	}
	t.Logf("another replica took the sink %s after the holder died (lease TTL %s)", took, LeaseTTL)
	st := h.exactlyOnce(t, r2, events)
	if st.Skipped == 0 {
		t.Fatalf("the new holder skipped nothing, though half a batch was in the target: %s", st)
	}
}

// killedMidBatchRestarted kills the holder mid-batch and starts it again
// under the same name: it takes its lease back at once, without waiting for
// the lease to lapse.
func killedMidBatchRestarted(t *testing.T, h *harness) {
	events := Events("again", 100, 5)
	h.journal.Append(t, events...)
	h.killMidBatch(t)
	begin := time.Now()
	r2, _ := h.replica(t, "a", sinks.Batching{Size: 25, Wait: 10 * time.Millisecond}, h.target.NewWriter(t))
	start(t, r2)
	waitStatus(t, r2, "holder", func(s sinks.Status) bool { return s.Role == sinks.RoleHolder })
	if took := time.Since(begin); took >= LeaseTTL/2 {
		t.Fatalf("the restarted replica took %s to take its own lease back (lease TTL %s)", took, LeaseTTL)
	}
	h.exactlyOnce(t, r2, events)
}

// killMidBatch runs the replica "a" until it has written half of its
// second batch, then kills it: its journal connection is cut and it never
// writes again. It returns when it died.
func (h *harness) killMidBatch(t *testing.T) time.Time {
	t.Helper()
	kw := &killWriter{wrapped: wrapped{h.target.NewWriter(t)}, at: 2, dead: make(chan struct{})}
	r, nc := h.runner(t, sinks.Batching{Size: 25, Wait: 10 * time.Millisecond}, kw)
	kw.nc = nc
	start(t, r)
	select {
	case <-kw.dead:
	case <-time.After(30 * time.Second):
		t.Fatal("the second batch was never written")
	}
	killed := time.Now()
	abandon(t, r)
	return killed
}

// closeWithTargetGone closes the runner while the target is down with
// events pending: Close returns by its deadline, and a replica started
// once the target is back delivers every event once.
func closeWithTargetGone(t *testing.T, h *harness) {
	events := Events("gone", 80, 4)
	b := sinks.Batching{Size: 20, Wait: 10 * time.Millisecond}
	r, _ := h.runner(t, b, h.target.NewWriter(t))
	start(t, r)
	h.journal.Append(t, events[:40]...)
	h.waitAll(t, events[:40])
	restore := h.target.Outage(t)
	h.journal.Append(t, events[40:]...)
	waitStatus(t, r, "retrying", func(s sinks.Status) bool { return s.State == sinks.StateRetrying })
	const budget = 2 * time.Second
	ctx, cancel := context.WithTimeout(context.Background(), budget)
	defer cancel()
	begin := time.Now()
	_ = r.Close(ctx)
	if took := time.Since(begin); took > budget+time.Second {
		t.Fatalf("Close took %s with a %s deadline", took, budget)
	}
	restore()
	r2, _ := h.runner(t, b, h.target.NewWriter(t))
	start(t, r2)
	h.exactlyOnce(t, r2, events)
}

// wrapped passes Resume and Checkpoint on to the writer it wraps when that
// writer is a sinks.Resumable, and Prepare when it is a sinks.Preparer, so
// a test's wrapper keeps the writer's exactly-once behaviour and speed.
type wrapped struct{ connector.Writer }

func (w wrapped) Resume(ctx context.Context, from sinks.Resume) error {
	if r, ok := w.Writer.(sinks.Resumable); ok {
		return r.Resume(ctx, from)
	}
	return nil
}

func (w wrapped) Checkpoint() ([]byte, error) {
	if r, ok := w.Writer.(sinks.Resumable); ok {
		return r.Checkpoint()
	}
	return nil, nil
}

// Prepare passes the events on to the writer when it is a sinks.Preparer.
func (w wrapped) Prepare(events []*connector.Event) {
	if p, ok := w.Writer.(sinks.Preparer); ok {
		p.Prepare(events)
	}
}

// killWriter writes the first half of write number at and then dies: it
// cuts the replica's journal connection and never writes again.
type killWriter struct {
	wrapped
	nc   *nats.Conn
	at   int
	n    int
	once sync.Once
	dead chan struct{}
}

func (k *killWriter) Write(ctx context.Context, batch []*connector.Event) error {
	select {
	case <-k.dead:
		<-ctx.Done()
		return ctx.Err()
	default:
	}
	if k.n++; k.n < k.at || len(batch) < 2 {
		return k.wrapped.Write(ctx, batch)
	}
	_ = k.wrapped.Write(ctx, batch[:len(batch)/2])
	k.once.Do(func() { k.nc.Close(); close(k.dead) })
	<-ctx.Done()
	return ctx.Err()
}
