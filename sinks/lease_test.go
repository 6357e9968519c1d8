package sinks_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/agentphone-connector/connector/sinks"
	"github.com/agentphone-connector/connector/sinks/sinktest"
)

func isHolder(s sinks.Status) bool { return s.Role == sinks.RoleHolder }
func isStandby(s sinks.Status) bool {
	return s.Role == sinks.RoleStandby && s.State == sinks.StateStandby
}

// TestOneReplicaDelivers runs two replicas on one journal: one holds the
// sink's lease and delivers everything, the other stands by and writes
// nothing; status and metrics say which is which.
func TestOneReplicaDelivers(t *testing.T) {
	j := sinktest.StartJournal(t)
	rc := newRecorder()
	a := startReplica(t, j, "a", rc, quick)
	a.waitStatus(t, "holder", isHolder)
	b := startReplica(t, j, "b", rc, quick)
	stB := b.waitStatus(t, "standing by", isStandby)
	if stA := a.status(); stB.Holder != stA.Replica || stA.Holder != stA.Replica || stA.Replica == stB.Replica {
		t.Fatalf("holder as seen by a: %q, by b: %q; replicas %q and %q", stA.Holder, stB.Holder, stA.Replica, stB.Replica)
	}
	events := sinktest.Events("one", 200, 8)
	j.Append(t, events...)
	if err := sinktest.CheckDelivered(events, waitReceived(t, rc.mem, len(events))); err != nil {
		t.Fatal(err)
	}
	if w := rc.writers(); !slices.Equal(w, []string{"a"}) {
		t.Fatalf("written by %v, want a alone", w)
	}
	if d := sinktest.Duplicates(rc.mem.Received()); d != 0 {
		t.Fatalf("%d duplicates", d)
	}
	for _, c := range []struct {
		rp   *replica
		held float64
	}{{a, 1}, {b, 0}} {
		if got := gauge(t, c.rp.reg, "connector_sink_lease_held"); got != c.held {
			t.Errorf("%s: connector_sink_lease_held = %v, want %v", c.rp.name, got, c.held)
		}
		if got := gauge(t, c.rp.reg, "connector_sink_healthy"); got != 1 {
			t.Errorf("%s: connector_sink_healthy = %v, want 1", c.rp.name, got)
		}
	}
	if st := b.status(); st.Pending != 0 || st.LagError != "" {
		t.Fatalf("a standby reports the sink's lag too: %s", st)
	}
}

// TestTakeoverOnClose closes the holder in the middle of the stream: it
// finishes its batch and releases the lease, the standby takes over at
// once, and every event arrives once, in order per key.
func TestTakeoverOnClose(t *testing.T) {
	j := sinktest.StartJournal(t)
	rc := newRecorder()
	events := sinktest.Events("close", 300, 6)
	j.Append(t, events[:150]...)
	reached := make(chan struct{})
	rc.hook = func(replica string, n int) {
		if replica == "a" && n == 3 {
			close(reached)
		}
	}
	a := startReplica(t, j, "a", rc, quick)
	a.waitStatus(t, "holder", isHolder)
	b := startReplica(t, j, "b", rc, quick)
	b.waitStatus(t, "standing by", isStandby)
	<-reached
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := a.r.Close(ctx); err != nil {
		t.Fatal(err)
	}
	j.Append(t, events[150:]...)
	b.waitStatus(t, "holder after a closed", isHolder)
	got := waitReceived(t, rc.mem, len(events))
	if err := sinktest.CheckDelivered(events, got); err != nil {
		t.Fatal(err)
	}
	if w := rc.writers(); !slices.Equal(w, []string{"a", "b"}) {
		t.Fatalf("written by %v, want a then b", w)
	}
	if err := rc.interleaved("a", "b"); err != nil {
		t.Fatal(err)
	}
	if d := sinktest.Duplicates(rc.mem.Received()); d != 0 {
		t.Fatalf("%d duplicates after a clean hand-over", d)
	}
	if got := counter(t, a.reg, "connector_sink_lease_changes_total", "released"); got != 1 {
		t.Fatalf("a released its lease %v times", got)
	}
}

// TestTakeoverAfterPartition cuts the holder off from NATS right after a
// write, before its ack, with the next batch read ahead: it cannot renew its
// lease, and the write of that batch is held until the standby has taken
// over (once the lease expired) and written, as a slow target would hold
// it. The write must not reach the target: the holder's writes end where
// its lease would.
// Nothing is lost, each key keeps its order, and nothing is written twice:
// what the cut-off holder wrote and did not commit is read again by the new
// holder and found in the target.
func TestTakeoverAfterPartition(t *testing.T) {
	j := sinktest.StartJournal(t)
	events := sinktest.Events("cut", 400, 8)
	j.Append(t, events[:200]...)
	check := sinktest.CheckLeaks(t)
	rc := newRecorder()
	b := sinks.Batching{Size: 25, Wait: 5 * time.Millisecond}
	var a, sb *replica
	cut, tookOver := make(chan struct{}), make(chan struct{})
	rc.gate = func(replica string, n int) {
		switch {
		case replica == "a" && n == 2: // the third batch is read ahead
			waitDelivered(t, j, 3*uint64(b.Size))
		case replica == "a" && n == 3: // held until the standby has written
			<-tookOver
		}
	}
	rc.hook = func(replica string, n int) {
		switch {
		case replica == "a" && n == 2:
			a.nc.Close()
			close(cut)
		case replica == "b" && n == 1:
			close(tookOver)
		}
	}
	a = startReplica(t, j, "a", rc, b)
	a.waitStatus(t, "holder", isHolder)
	sb = startReplica(t, j, "b", rc, b)
	<-cut
	j.Append(t, events[200:]...)
	sb.waitStatus(t, "holder after a was cut off", isHolder)
	a.waitStatus(t, "no longer holder", func(s sinks.Status) bool { return s.Role == sinks.RoleStandby })

	waitReceived(t, rc.mem, len(events))
	sb.waitStatus(t, "all acknowledged", func(s sinks.Status) bool { return s.Pending == 0 })
	got := rc.mem.Received()
	if err := sinktest.CheckDelivered(events, got); err != nil {
		t.Fatal(err)
	}
	if err := rc.interleaved("a", "b"); err != nil {
		t.Fatal(err)
	}
	dups, rewound := sinktest.Duplicates(got), counter(t, sb.reg, "connector_sink_rewound_events_total", "")
	skipped := counter(t, sb.reg, "connector_sink_skipped_events_total", "")
	t.Logf("cut off after a write: %d duplicates of %d events; the new holder read %v again and skipped %v", dups, len(events), rewound, skipped)
	// Read again: the batch written and not committed, and those read
	// ahead (at least one, at most the reader's two and the one it was
	// reading).
	if dups != 0 || skipped != float64(b.Size) || rewound < float64(2*b.Size) || rewound > float64(5*b.Size) {
		t.Fatalf("%d duplicates, %v read again, %v skipped; want none, %d to %d read again (two to five batches) and %d skipped (the written one)",
			dups, rewound, skipped, 2*b.Size, 5*b.Size, b.Size)
	}
	if got := gauge(t, a.reg, "connector_sink_lease_held"); got != 0 {
		t.Fatalf("cut-off replica: connector_sink_lease_held = %v", got)
	}
	for _, rp := range []*replica{a, sb} {
		if err := rp.r.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	sb.nc.Close()
	check()
}

// TestReplacesExplicitAckConsumer starts on a consumer made before leases,
// which acknowledged each event: it is made again with batch acks, and
// delivery goes on from its ack floor.
func TestReplacesExplicitAckConsumer(t *testing.T) {
	ctx := context.Background()
	j := sinktest.StartJournal(t)
	events := sinktest.Events("old", 10, 2)
	j.Append(t, events...)
	js, _ := j.JetStream(t)
	s, err := js.Stream(ctx, j.Config.Stream)
	if err != nil {
		t.Fatal(err)
	}
	old, err := s.CreateConsumer(ctx, jetstream.ConsumerConfig{Durable: sinks.ConsumerName("mem"), AckPolicy: jetstream.AckExplicitPolicy})
	if err != nil {
		t.Fatal(err)
	}
	b, err := old.Fetch(4)
	if err != nil {
		t.Fatal(err)
	}
	for m := range b.Messages() {
		if err := m.DoubleAck(ctx); err != nil {
			t.Fatal(err)
		}
	}
	m := sinktest.NewMemory()
	r, err := sinks.New(js, j.Config.Stream, sinktest.Config(), []sinks.Sink{{Name: "mem", Writer: m.Writer(), Batch: quick}}, sinks.Settings{Logger: sinktest.Logger(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close(ctx)
	if err := r.Start(ctx); err != nil {
		t.Fatal(err)
	}
	sinktest.Eventually(t, 20*time.Second, func() bool { st := r.Status(ctx)[0]; return st.Delivered == 6 && st.Pending == 0 },
		func() string { return r.Status(ctx)[0].String() })
	if err := sinktest.CheckDelivered(events[4:], m.Received()); err != nil {
		t.Fatal(err)
	}
	c, err := s.Consumer(ctx, sinks.ConsumerName("mem"))
	if err != nil || c.CachedInfo().Config.AckPolicy != jetstream.AckAllPolicy {
		t.Fatalf("consumer %v, %v: want ack all", c, err)
	}
}
