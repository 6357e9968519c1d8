package sinks_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/prometheus/client_golang/prometheus"

	connector "github.com/agentphone-connector/connector"
	"github.com/agentphone-connector/connector/sinks"
	"github.com/agentphone-connector/connector/sinks/sinktest"
)

// replica is one connector replica in a test: a Runner of the sink "mem" on
// its own NATS connection, writing through a shared recorder.
type replica struct {
	name string
	r    *sinks.Runner
	nc   *nats.Conn
	reg  *prometheus.Registry
}

// recorder is the one target that every replica writes to. It keeps, in
// the order they reached it, which replica wrote which events.
type recorder struct {
	mem *sinktest.Memory

	gate func(replica string, n int) // called before each write of a replica, n counting from 1

	mu     sync.Mutex
	writes []recorded
	hook   func(replica string, n int) // called after each write of a replica, n counting from 1
	counts map[string]int
	tries  map[string]int
}

type recorded struct {
	replica string
	ids     []string
}

func newRecorder() *recorder {
	return &recorder{mem: sinktest.NewMemory(), counts: map[string]int{}, tries: map[string]int{}}
}

func (rc *recorder) writer(replica string) connector.Writer {
	return &recWriter{rc: rc, replica: replica, w: rc.mem.Writer()}
}

type recWriter struct {
	rc      *recorder
	replica string
	w       connector.Writer
}

// Write holds the recorder while it writes, so that the record's order is
// the target's. A write the target refused (its ctx ended) is not recorded.
func (w *recWriter) Write(ctx context.Context, batch []*connector.Event) error {
	w.rc.mu.Lock()
	w.rc.tries[w.replica]++
	n := w.rc.tries[w.replica]
	w.rc.mu.Unlock()
	if w.rc.gate != nil {
		w.rc.gate(w.replica, n)
	}
	w.rc.mu.Lock()
	defer w.rc.mu.Unlock()
	err := w.w.Write(ctx, batch)
	if ctx.Err() != nil {
		return err
	}
	w.rc.writes = append(w.rc.writes, recorded{w.replica, sinktest.IDs(batch)})
	w.rc.counts[w.replica]++
	if w.rc.hook != nil && allWritten(err, len(batch)) {
		w.rc.hook(w.replica, w.rc.counts[w.replica])
	}
	return err
}

func (w *recWriter) Close(ctx context.Context) error { return w.w.Close(ctx) }

// allWritten reports whether a Write's outcome has every event of the
// batch in the target, written now or found there.
func allWritten(err error, n int) bool {
	for i := range n {
		if e := connector.ErrorAt(err, i); e != nil && !errors.Is(e, connector.ErrAlreadyWritten) {
			return false
		}
	}
	return true
}

// Resume and Checkpoint pass on to the memory writer, which is a
// sinks.Resumable: the recorder keeps its exactly-once behaviour.
func (w *recWriter) Resume(ctx context.Context, from sinks.Resume) error {
	return w.w.(sinks.Resumable).Resume(ctx, from)
}
func (w *recWriter) Checkpoint() ([]byte, error) { return w.w.(sinks.Resumable).Checkpoint() }

// writers returns the replicas that wrote, in the order of their first write.
func (rc *recorder) writers() []string {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	var out []string
	for _, w := range rc.writes {
		if !slices.Contains(out, w.replica) {
			out = append(out, w.replica)
		}
	}
	return out
}

// interleaved reports a write by replica a after the first write of b.
func (rc *recorder) interleaved(a, b string) error {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	bStarted := false
	for i, w := range rc.writes {
		bStarted = bStarted || w.replica == b
		if bStarted && w.replica == a {
			return fmt.Errorf("write %d of %d (%d events from %s) by %s came after %s had started", i+1, len(rc.writes), len(w.ids), w.ids[0], a, b)
		}
	}
	return nil
}

// startReplica starts a Runner of the sink "mem" on j.
func startReplica(t *testing.T, j *sinktest.Journal, name string, rc *recorder, b sinks.Batching) *replica {
	t.Helper()
	rp := &replica{name: name, reg: prometheus.NewRegistry()}
	js, nc := j.JetStream(t)
	rp.nc = nc
	r, err := sinks.New(js, j.Config.Stream, sinktest.Config(), []sinks.Sink{{Name: "mem", Writer: rc.writer(name), Batch: b}},
		sinks.Settings{Logger: sinktest.Logger(t).With("test_replica", name), Registerer: rp.reg, Replica: name})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Close(context.Background()) })
	if err := r.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	rp.r = r
	return rp
}

func (rp *replica) status() sinks.Status {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return rp.r.Status(ctx)[0]
}

func (rp *replica) waitStatus(t *testing.T, what string, cond func(sinks.Status) bool) sinks.Status {
	t.Helper()
	var st sinks.Status
	sinktest.Eventually(t, 30*time.Second, func() bool { st = rp.status(); return cond(st) },
		func() string { return rp.name + " " + what + ": " + st.String() })
	return st
}

// waitDelivered waits until the sink's consumer has handed out the journal
// up to seq.
func waitDelivered(t *testing.T, j *sinktest.Journal, seq uint64) {
	t.Helper()
	js, nc := j.JetStream(t)
	defer nc.Close()
	var got uint64
	sinktest.Eventually(t, 20*time.Second, func() bool {
		c, err := js.Consumer(context.Background(), j.Config.Stream, sinks.ConsumerName("mem"))
		if err == nil {
			got = c.CachedInfo().Delivered.Stream
		}
		return got >= seq
	}, func() string { return fmt.Sprintf("consumer handed out up to %d, want %d", got, seq) })
}
