package sinktest

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/prometheus/client_golang/prometheus"

	connector "github.com/agentphone-connector/connector"
	"github.com/agentphone-connector/connector/sinks"
)

// Target is what a sink's test gives the suite.
type Target interface {
	// Name is the sink's name, e.g. "kafka".
	Name() string
	// NewWriter returns a new Writer to the target; the suite closes it.
	NewWriter(t *testing.T) connector.Writer
	// Read returns every event the target holds, in the order a consumer
	// reads them (for each key, the target's order).
	Read(t *testing.T) []Received
	// Outage makes writes to the target fail transiently until restore is called.
	Outage(t *testing.T) (restore func())
	// Poison turns e into an event the target will never accept, keeping its key.
	Poison(e *connector.Event) *connector.Event
	// TimeoutAfterWrite makes the next n writes to the target land and
	// then fail as if timed out (the answer lost or late): the writer
	// cannot know they landed.
	TimeoutAfterWrite(t *testing.T, n int)
}

// Run runs the conformance suite; newTarget gives each case a fresh target.
func Run(t *testing.T, newTarget func(t *testing.T) Target) {
	cases := []struct {
		name string
		run  func(*testing.T, *harness)
	}{
		{"delivers every event once", deliversEveryEventOnce},
		{"keeps per-key order across batches", keepsPerKeyOrder},
		{"survives a target outage", survivesOutage},
		{"dead-letters a poisoned event", deadLettersPoison},
		{"closes without start", closesWithoutStart},
		{"closes after start", closesAfterStart},
		{"crash between write and ack", crashBetweenWriteAndAck},
		{"times out after writing", timesOutAfterWriting},
		{"holder killed mid-batch, another replica takes over", killedMidBatchTakenOver},
		{"holder killed mid-batch, restarted under the same name", killedMidBatchRestarted},
		{"close with the target gone", closeWithTargetGone},
		{"receives only the kinds of its route, and a replay re-sends only those", routesKinds},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.run(t, &harness{target: newTarget(t), journal: StartJournal(t), cfg: Config()})
		})
	}
}

type harness struct {
	target  Target
	journal *Journal
	cfg     sinks.Config
}

// runner returns a Runner of the target's sink on its own journal
// connection, as the replica "a", and the connection; the runner is closed
// when the test ends.
func (h *harness) runner(t *testing.T, b sinks.Batching, w connector.Writer) (*sinks.Runner, *nats.Conn) {
	t.Helper()
	return h.replica(t, "a", b, w)
}

// replica is runner under the replica name given.
func (h *harness) replica(t *testing.T, name string, b sinks.Batching, w connector.Writer) (*sinks.Runner, *nats.Conn) {
	t.Helper()
	return h.replicaOf(t, name, sinks.Sink{Name: h.target.Name(), Writer: w, Batch: b})
}

// replicaOf is a Runner of the sink s under the replica name given.
func (h *harness) replicaOf(t *testing.T, name string, s sinks.Sink) (*sinks.Runner, *nats.Conn) {
	t.Helper()
	js, nc := h.journal.JetStream(t)
	r, err := sinks.New(js, h.journal.Config.Stream, h.cfg, []sinks.Sink{s},
		sinks.Settings{Logger: Logger(t).With("test_replica", name), Registerer: prometheus.NewRegistry(), Replica: name})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Close(context.Background()) })
	return r, nc
}

func start(t *testing.T, r *sinks.Runner) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := r.Start(ctx); err != nil {
		t.Fatal(err)
	}
}

func closeRunner(t *testing.T, r *sinks.Runner) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := r.Close(ctx); err != nil {
		t.Fatal(err)
	}
}

// waitAll waits until the target holds every event of want at least once.
func (h *harness) waitAll(t *testing.T, want []*connector.Event) []Received {
	t.Helper()
	var got []Received
	Eventually(t, 60*time.Second, func() bool {
		got = h.target.Read(t)
		return len(Dedupe(got)) >= len(want)
	}, func() string { return "delivered " + itoa(len(Dedupe(got))) + " of " + itoa(len(want)) })
	return got
}

func status(r *sinks.Runner) sinks.Status {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return r.Status(ctx)[0]
}

// waitStatus waits until the sink's status satisfies cond.
func waitStatus(t *testing.T, r *sinks.Runner, what string, cond func(sinks.Status) bool) sinks.Status {
	t.Helper()
	var st sinks.Status
	Eventually(t, 30*time.Second, func() bool { st = status(r); return cond(st) },
		func() string { return what + "; status " + st.String() })
	return st
}

func deliversEveryEventOnce(t *testing.T, h *harness) {
	events := Events("once", 240, 12)
	h.journal.Append(t, events[:120]...)
	r, _ := h.runner(t, sinks.Batching{Size: 50, Wait: 20 * time.Millisecond}, h.target.NewWriter(t))
	start(t, r)
	h.journal.Append(t, events[120:]...)
	got := h.waitAll(t, events)
	waitStatus(t, r, "all acknowledged", func(s sinks.Status) bool { return s.Pending == 0 && s.Delivered == 240 })
	if err := CheckDelivered(events, got); err != nil {
		t.Fatal(err)
	}
	if d := Duplicates(h.target.Read(t)); d != 0 {
		t.Fatalf("%d duplicates in the normal path", d)
	}
}

func keepsPerKeyOrder(t *testing.T, h *harness) {
	events := Events("order", 300, 5)
	r, _ := h.runner(t, sinks.Batching{Size: 7, Wait: 5 * time.Millisecond}, h.target.NewWriter(t))
	start(t, r)
	for i := 0; i < len(events); i += 100 {
		h.journal.Append(t, events[i:i+100]...)
	}
	if err := CheckDelivered(events, h.waitAll(t, events)); err != nil {
		t.Fatal(err)
	}
}

func survivesOutage(t *testing.T, h *harness) {
	events := Events("outage", 100, 10)
	r, _ := h.runner(t, sinks.Batching{Size: 20, Wait: 10 * time.Millisecond}, h.target.NewWriter(t))
	start(t, r)
	h.journal.Append(t, events[:40]...)
	h.waitAll(t, events[:40])
	waitStatus(t, r, "first 40 acknowledged", func(s sinks.Status) bool { return s.Pending == 0 })

	restore := h.target.Outage(t)
	h.journal.Append(t, events[40:]...) // ingest goes on while the sink is down
	st := waitStatus(t, r, "sink retrying with 60 pending", func(s sinks.Status) bool {
		return s.State == sinks.StateRetrying && s.Pending == 60
	})
	t.Logf("during the outage: %s", st)
	restore()

	got := h.waitAll(t, events)
	st = waitStatus(t, r, "delivering, all acknowledged", func(s sinks.Status) bool {
		return s.State == sinks.StateDelivering && s.Pending == 0
	})
	if err := CheckDelivered(events, got); err != nil {
		t.Fatal(err)
	}
	if st.FailedWrites == 0 {
		t.Fatalf("no failed writes counted across the outage: %s", st)
	}
	if d := Duplicates(h.target.Read(t)); d != 0 {
		t.Fatalf("%d duplicates across the outage; %s", d, st)
	}
}

func deadLettersPoison(t *testing.T, h *harness) {
	events := Events("dlq", 30, 3)
	poison := h.target.Poison(events[10])
	h.journal.Append(t, events...)
	r, _ := h.runner(t, sinks.Batching{Size: 8, Wait: 10 * time.Millisecond}, h.target.NewWriter(t))
	start(t, r)
	want := append(append([]*connector.Event(nil), events[:10]...), events[11:]...)
	got := h.waitAll(t, want)
	waitStatus(t, r, "poison dead-lettered, all acknowledged", func(s sinks.Status) bool { return s.DeadLettered == 1 && s.Pending == 0 })
	if err := CheckDelivered(want, got); err != nil {
		t.Fatal(err)
	}
	dead := h.journal.DeadLetters(t, h.cfg.DeadLetter)
	if len(dead) != 1 {
		t.Fatalf("dead-letter stream holds %d messages, want 1", len(dead))
	}
	hd := dead[0].Header
	if hd.Get(sinks.HeaderSink) != h.target.Name() || hd.Get(sinks.HeaderEventID) != poison.ID || hd.Get(sinks.HeaderReason) == "" {
		t.Fatalf("dead letter headers %v: want sink %q, event %q and a reason", hd, h.target.Name(), poison.ID)
	}
	if e, err := connector.Unmarshal(dead[0].Data); err != nil || e.ID != poison.ID {
		t.Fatalf("dead letter data is not the poisoned event: %v", err)
	}
	t.Logf("dead-letter reason: %s", hd.Get(sinks.HeaderReason))
}

func closesWithoutStart(t *testing.T, h *harness) {
	check := CheckLeaks(t)
	r, nc := h.runner(t, sinks.Batching{Size: 10, Wait: 10 * time.Millisecond}, h.target.NewWriter(t))
	closeRunner(t, r)
	if st := status(r); st.State != sinks.StateStopped {
		t.Fatalf("state %s after close, want stopped", st.State)
	}
	nc.Close()
	check()
}

func closesAfterStart(t *testing.T, h *harness) {
	events := Events("close", 20, 4)
	check := CheckLeaks(t)
	r, nc := h.runner(t, sinks.Batching{Size: 10, Wait: 10 * time.Millisecond}, h.target.NewWriter(t))
	start(t, r)
	h.journal.Append(t, events...)
	h.waitAll(t, events)
	closeRunner(t, r)
	if st := status(r); st.State != sinks.StateStopped {
		t.Fatalf("state %s after close, want stopped", st.State)
	}
	nc.Close()
	check()
}

// crashBetweenWriteAndAck cuts the runner's journal connection right after
// its second batch is written, before it is committed: a process dying at
// the worst moment. A new runner must deliver everything, each event once.
func crashBetweenWriteAndAck(t *testing.T, h *harness) {
	const size = 25
	events := Events("crash", 4*size, 5)
	h.journal.Append(t, events...)
	b := sinks.Batching{Size: size, Wait: 10 * time.Millisecond}
	crash := &crashWriter{wrapped: wrapped{h.target.NewWriter(t)}, at: 2, crashed: make(chan struct{})}
	r1, nc1 := h.runner(t, b, crash)
	crash.nc = nc1
	start(t, r1)
	select {
	case <-crash.crashed:
	case <-time.After(30 * time.Second):
		t.Fatal("the second batch was never written")
	}
	abandon(t, r1)

	r2, _ := h.runner(t, b, h.target.NewWriter(t))
	start(t, r2)
	st := h.exactlyOnce(t, r2, events)
	t.Logf("crash between write and ack: %s", st)
}

// exactlyOnce waits until the target holds every event and the sink has
// committed them all, and fails unless each is there once, in order per key.
func (h *harness) exactlyOnce(t *testing.T, r *sinks.Runner, events []*connector.Event) sinks.Status {
	t.Helper()
	h.waitAll(t, events)
	st := waitStatus(t, r, "all acknowledged", func(s sinks.Status) bool { return s.Pending == 0 })
	got := h.target.Read(t)
	if err := CheckDelivered(events, got); err != nil {
		t.Fatal(err)
	}
	if d := Duplicates(got); d != 0 {
		t.Fatalf("%d duplicates of %d events; %s", d, len(events), st)
	}
	if c, ok := h.target.(OnceChecker); ok {
		c.CheckOnce(t)
	}
	return st
}

// OnceChecker is a Target that holds more than Read shows (BigQuery's
// typed tables besides its events table): CheckOnce fails the test when
// any of it holds a row twice.
type OnceChecker interface {
	CheckOnce(t *testing.T)
}

// abandon closes r with a context that has ended: whatever it holds is
// left as a killed process leaves it.
func abandon(t *testing.T, r *sinks.Runner) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_ = r.Close(ctx)
}

// crashWriter closes the journal connection right after write number at
// succeeded, so the batch is never committed.
type crashWriter struct {
	wrapped
	nc      *nats.Conn
	at      int
	n       int
	once    sync.Once
	crashed chan struct{}
}

func (c *crashWriter) Write(ctx context.Context, batch []*connector.Event) error {
	err := c.Writer.Write(ctx, batch)
	if c.n++; c.n == c.at && err == nil {
		c.once.Do(func() { c.nc.Close(); close(c.crashed) })
	}
	return err
}
