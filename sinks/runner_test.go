package sinks_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	connector "github.com/agentphone-connector/connector"
	"github.com/agentphone-connector/connector/sinks"
	"github.com/agentphone-connector/connector/sinks/sinktest"
)

var quick = sinks.Batching{Size: 10, Wait: 5 * time.Millisecond}

type fixture struct {
	j   *sinktest.Journal
	js  jetstream.JetStream
	reg *prometheus.Registry
	r   *sinks.Runner
}

// newFixture returns a started Runner of the given sinks on a new journal.
func newFixture(t *testing.T, set sinks.Settings, list ...sinks.Sink) *fixture {
	t.Helper()
	return newFixtureWith(t, nil, set, list...)
}

// newFixtureWith journals events before it starts the Runner.
func newFixtureWith(t *testing.T, events []*connector.Event, set sinks.Settings, list ...sinks.Sink) *fixture {
	t.Helper()
	f := &fixture{j: sinktest.StartJournal(t), reg: prometheus.NewRegistry()}
	f.js, _ = f.j.JetStream(t)
	set.Logger, set.Registerer = sinktest.Logger(t), f.reg
	r, err := sinks.New(f.js, f.j.Config.Stream, sinktest.Config(), list, set)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Close(context.Background()) })
	f.j.Append(t, events...)
	if err := r.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	f.r = r
	return f
}

func (f *fixture) status(name string) sinks.Status {
	for _, s := range f.r.Status(context.Background()) {
		if s.Sink == name {
			return s
		}
	}
	return sinks.Status{}
}

func (f *fixture) waitStatus(t *testing.T, name, what string, cond func(sinks.Status) bool) sinks.Status {
	t.Helper()
	var st sinks.Status
	sinktest.Eventually(t, 20*time.Second, func() bool { st = f.status(name); return cond(st) },
		func() string { return what + ": " + st.String() })
	return st
}

func waitReceived(t *testing.T, m *sinktest.Memory, n int) []sinktest.Received {
	t.Helper()
	sinktest.Eventually(t, 20*time.Second, func() bool { return len(m.Received()) >= n },
		func() string { return "memory sink holds fewer events than expected" })
	return m.Received()
}

// TestRetriesOnlyFailedEvents fails two events once: they and the later
// events of their keys are written again, in order; nothing else is.
func TestRetriesOnlyFailedEvents(t *testing.T) {
	m := sinktest.NewMemory()
	events := sinktest.Events("retry", 20, 4)
	m.FailID(events[5].ID, 1)  // key 1: events 5, 9, 13, 17 follow
	m.FailID(events[14].ID, 2) // key 2: events 14, 18
	// All journaled before the start, so that the first batch holds all 20.
	f := newFixtureWith(t, events, sinks.Settings{}, sinks.Sink{Name: "mem", Writer: m.Writer(), Batch: sinks.Batching{Size: 20, Wait: 50 * time.Millisecond}})
	got := waitReceived(t, m, 20)
	if err := sinktest.CheckDelivered(events, got); err != nil {
		t.Fatal(err)
	}
	if d := sinktest.Duplicates(got); d != 0 {
		t.Fatalf("%d duplicates", d)
	}
	st := f.waitStatus(t, "mem", "all acknowledged", func(s sinks.Status) bool { return s.Pending == 0 })
	// First write: 5, 9, 13, 17 (key 1) and 14, 18 (key 2) fail; second: 14, 18 fail.
	if st.Delivered != 20 || st.FailedWrites != 8 {
		t.Fatalf("delivered %d, failed writes %d; want 20 and 8", st.Delivered, st.FailedWrites)
	}
}

// TestOneSinkDownOthersCarryOn keeps ingest and a healthy sink going while
// another sink's target is down, then lets the failed one catch up.
func TestOneSinkDownOthersCarryOn(t *testing.T) {
	up, down := sinktest.NewMemory(), sinktest.NewMemory()
	down.SetDown(errors.New("target unreachable"))
	f := newFixture(t, sinks.Settings{},
		sinks.Sink{Name: "up", Writer: up.Writer(), Batch: quick},
		sinks.Sink{Name: "down", Writer: down.Writer(), Batch: quick})
	events := sinktest.Events("iso", 50, 5)
	f.j.Append(t, events...)
	if err := sinktest.CheckDelivered(events, waitReceived(t, up, 50)); err != nil {
		t.Fatal(err)
	}
	f.waitStatus(t, "down", "retrying with the backlog pending", func(s sinks.Status) bool {
		return s.State == sinks.StateRetrying && s.Pending == 50 && strings.Contains(s.LastError, "target unreachable")
	})
	if st := f.status("up"); st.State != sinks.StateDelivering || st.Pending != 0 {
		t.Fatalf("healthy sink: %s", st)
	}
	down.SetDown(nil)
	if err := sinktest.CheckDelivered(events, waitReceived(t, down, 50)); err != nil {
		t.Fatal(err)
	}
	if d := sinktest.Duplicates(up.Received()); d != 0 {
		t.Fatalf("the healthy sink got %d duplicates", d)
	}
}

// TestUndecodableDeadLettered sends a journal message that is not an event
// to the dead-letter stream, and delivers the events around it.
func TestUndecodableDeadLettered(t *testing.T) {
	m := sinktest.NewMemory()
	f := newFixture(t, sinks.Settings{}, sinks.Sink{Name: "mem", Writer: m.Writer(), Batch: quick})
	events := sinktest.Events("bad", 6, 2)
	f.j.Append(t, events[:3]...)
	if _, err := f.js.Publish(context.Background(), "agentphone.garbage._._", []byte("not json")); err != nil {
		t.Fatal(err)
	}
	f.j.Append(t, events[3:]...)
	if err := sinktest.CheckDelivered(events, waitReceived(t, m, 6)); err != nil {
		t.Fatal(err)
	}
	f.waitStatus(t, "mem", "dead-lettered", func(s sinks.Status) bool { return s.DeadLettered == 1 && s.Pending == 0 })
	dead := f.j.DeadLetters(t, sinktest.Config().DeadLetter)
	if len(dead) != 1 {
		t.Fatalf("%d dead letters, want 1", len(dead))
	}
	h := dead[0].Header
	if h.Get(sinks.HeaderSink) != "mem" || !strings.Contains(h.Get(sinks.HeaderReason), "decode journal message") ||
		h.Get(sinks.HeaderEventID) != "" || h.Get(sinks.HeaderJournalSeq) != "4" || string(dead[0].Data) != "not json" {
		t.Fatalf("dead letter %v %q", h, dead[0].Data)
	}
}

// TestStatusAndMetrics reports the lag of a stuck sink, by count and age, in
// its status and in the metrics.
func TestStatusAndMetrics(t *testing.T) {
	m := sinktest.NewMemory()
	m.SetDown(errors.New("down"))
	later := func() time.Time { return time.Now().Add(time.Hour) }
	f := newFixture(t, sinks.Settings{Now: later}, sinks.Sink{Name: "mem", Writer: m.Writer(), Batch: quick})
	f.j.Append(t, sinktest.Events("lag", 12, 3)...)
	st := f.waitStatus(t, "mem", "12 pending", func(s sinks.Status) bool { return s.State == sinks.StateRetrying && s.Pending == 12 })
	if st.OldestPendingSeconds < 3600 {
		t.Fatalf("oldest pending %.0fs, want an hour or more", st.OldestPendingSeconds)
	}
	want := map[string]float64{"connector_sink_pending_events": 12, "connector_sink_healthy": 0}
	for name, v := range want {
		if got := gauge(t, f.reg, name); got != v {
			t.Errorf("%s = %v, want %v", name, got, v)
		}
	}
	if age := gauge(t, f.reg, "connector_sink_oldest_pending_seconds"); age < 3600 {
		t.Errorf("connector_sink_oldest_pending_seconds = %v", age)
	}
	m.SetDown(nil)
	f.waitStatus(t, "mem", "caught up", func(s sinks.Status) bool { return s.State == sinks.StateDelivering && s.Pending == 0 })
	if got := gauge(t, f.reg, "connector_sink_healthy"); got != 1 {
		t.Errorf("connector_sink_healthy = %v after recovery", got)
	}
	if got := counter(t, f.reg, "connector_sink_events_total", "delivered"); got != 12 {
		t.Errorf("delivered = %v, want 12", got)
	}

	rec := httptest.NewRecorder()
	f.r.ServeHTTP(rec, httptest.NewRequest("GET", "/sinks", nil))
	var body struct{ Sinks []sinks.Status }
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || len(body.Sinks) != 1 || body.Sinks[0].Delivered != 12 {
		t.Fatalf("GET /sinks: %v %s", err, rec.Body.String())
	}
}

func gauge(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	for _, m := range metric(t, reg, name) {
		return m.GetGauge().GetValue()
	}
	t.Fatalf("no %s", name)
	return 0
}

// counter returns the value of the counter name whose label values include
// label (any series when label is "").
func counter(t *testing.T, reg *prometheus.Registry, name, label string) float64 {
	t.Helper()
	for _, m := range metric(t, reg, name) {
		for _, l := range m.GetLabel() {
			if label == "" || l.GetValue() == label {
				return m.GetCounter().GetValue()
			}
		}
	}
	return 0
}

func metric(t *testing.T, reg *prometheus.Registry, name string) []*dto.Metric {
	t.Helper()
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fams {
		if f.GetName() == name {
			return f.GetMetric()
		}
	}
	return nil
}

// blockingWriter never finishes a write before its ctx ends.
type blockingWriter struct{ started chan struct{} }

func (b *blockingWriter) Write(ctx context.Context, _ []*connector.Event) error {
	select {
	case b.started <- struct{}{}:
	default:
	}
	<-ctx.Done()
	return ctx.Err()
}
func (b *blockingWriter) Close(context.Context) error { return nil }

// TestCloseAbandonsStuckWrite gives up on a write that outlives Close's
// ctx: the batch goes back to the journal and the next runner delivers it.
func TestCloseAbandonsStuckWrite(t *testing.T) {
	j := sinktest.StartJournal(t)
	events := sinktest.Events("stuck", 5, 1)
	j.Append(t, events...)
	check := sinktest.CheckLeaks(t)
	js, nc := j.JetStream(t)
	bw := &blockingWriter{started: make(chan struct{}, 1)}
	r, err := sinks.New(js, j.Config.Stream, sinktest.Config(), []sinks.Sink{{Name: "mem", Writer: bw, Batch: quick}}, sinks.Settings{Logger: sinktest.Logger(t)})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	<-bw.started
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := r.Close(ctx); err == nil || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Close = %v, want the batch abandoned on the deadline", err)
	}
	nc.Close()
	check()

	m := sinktest.NewMemory()
	js2, _ := j.JetStream(t)
	r2, err := sinks.New(js2, j.Config.Stream, sinktest.Config(), []sinks.Sink{{Name: "mem", Writer: m.Writer(), Batch: quick}}, sinks.Settings{Logger: sinktest.Logger(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer r2.Close(context.Background())
	if err := r2.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := sinktest.CheckDelivered(events, waitReceived(t, m, 5)); err != nil {
		t.Fatal(err)
	}
}

func TestNewRejects(t *testing.T) {
	w := sinktest.NewMemory().Writer()
	cases := []struct {
		name string
		list []sinks.Sink
	}{
		{"bad name", []sinks.Sink{{Name: "Kafka!", Writer: w, Batch: quick}}},
		{"twice", []sinks.Sink{{Name: "a", Writer: w, Batch: quick}, {Name: "a", Writer: w, Batch: quick}}},
		{"no writer", []sinks.Sink{{Name: "a", Batch: quick}}},
		{"bad batching", []sinks.Sink{{Name: "a", Writer: w}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if _, err := sinks.New(nil, "AGENTPHONE", sinktest.Config(), c.list, sinks.Settings{Logger: sinktest.Logger(t)}); err == nil {
				t.Fatal("New accepted it")
			}
		})
	}
}

func TestLifecycle(t *testing.T) {
	f := newFixture(t, sinks.Settings{}, sinks.Sink{Name: "mem", Writer: sinktest.NewMemory().Writer(), Batch: quick})
	if err := f.r.Start(context.Background()); !errors.Is(err, sinks.ErrStarted) {
		t.Fatalf("second Start = %v, want ErrStarted", err)
	}
	for range 2 {
		if err := f.r.Close(context.Background()); err != nil {
			t.Fatalf("Close = %v", err)
		}
	}
	if err := f.r.Start(context.Background()); !errors.Is(err, sinks.ErrClosed) {
		t.Fatalf("Start after Close = %v, want ErrClosed", err)
	}
}

func TestRepositionAndSeqAt(t *testing.T) {
	m := sinktest.NewMemory()
	f := newFixture(t, sinks.Settings{}, sinks.Sink{Name: "mem", Writer: m.Writer(), Batch: quick})
	f.j.Append(t, sinktest.Events("pos", 8, 2)...)
	waitReceived(t, m, 8)
	ctx := context.Background()
	if seq, err := sinks.SeqAt(ctx, f.js, f.j.Config.Stream, time.Now().Add(time.Hour)); err != nil || seq != 9 {
		t.Fatalf("SeqAt(future) = %d, %v; want 9", seq, err)
	}
	if seq, err := sinks.SeqAt(ctx, f.js, f.j.Config.Stream, time.Now().Add(-time.Hour)); err != nil || seq != 1 {
		t.Fatalf("SeqAt(past) = %d, %v; want 1", seq, err)
	}
	if _, err := sinks.Reposition(ctx, f.js, f.j.Config.Stream, "nope", 1); !errors.Is(err, sinks.ErrUnknownSink) {
		t.Fatalf("Reposition(unknown) = %v", err)
	}
	if next, err := sinks.Reposition(ctx, f.js, f.j.Config.Stream, "mem", 7); err != nil || next.Next != 7 {
		t.Fatalf("Reposition = %d, %v; want 7", next.Next, err)
	}
	got := waitReceived(t, m, 10)
	if d := sinktest.Duplicates(got); d != 2 {
		t.Fatalf("%d duplicates after re-driving from 7 of 8, want 2", d)
	}
}
