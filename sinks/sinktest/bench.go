package sinktest

import (
	"cmp"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	connector "github.com/agentphone-connector/connector"
	"github.com/agentphone-connector/connector/sinks"
	"github.com/prometheus/client_golang/prometheus"
)

// Bench measures a sink against its bare client side by side, in one
// process and one run, as the sinks' benchmarks do: each round journals a
// new set of events (not measured), then runs the bare client writing
// their records, prepared beforehand, and the sink delivering them from
// the journal, in an order that alternates from round to round. Garbage
// collections fall where the process's allocations trigger them, as in a
// running connector: over the rounds each side pays for them in proportion
// to what it allocates. (Forcing one before each side would let a side
// that allocates less than the live heap, which a journal of a million
// events makes large, never pay for any.) It reports both rates, their
// ratio over all rounds (ratio), the
// median of the rounds' ratios (median-ratio, which a burst of load from
// other processes disturbs least), and the process CPU per event of each
// side (getrusage: the servers in the process included), with their ratio
// (cpu-ratio, bare/sink), and the bytes each allocates per event (every
// goroutine of the process, the servers' included): what drives the
// garbage collector.
type Bench struct {
	b        *testing.B
	Journal  *Journal // on disk, prefilled
	profiles string   // a directory for a CPU profile of each measured side, or ""

	bare, sink side
	ratios     []float64
	events     int
}

// Prepared is one side's round, set up: the part to measure and the clean-up.
type Prepared struct{ Run, Cleanup func() }

// side adds up the wall time, CPU time and bytes allocated of one side's
// rounds.
type side struct {
	wall, cpu time.Duration
	alloc     uint64
}

// NewBench starts a journal on disk. With profiles set, each measured side
// writes a CPU profile there (bare-N.pprof, sink-N.pprof).
func NewBench(b *testing.B, profiles string) *Bench {
	b.Helper()
	return &Bench{b: b, Journal: StartDiskJournal(b), profiles: profiles}
}

// Prefill journals n events (about 1.3 KB each) that the sink named will
// not deliver: the history the rounds' events come after. It runs the sink
// once on a few events first, so that its consumer and progress exist,
// then journals the n and moves the sink past them, as a replay does.
func (bn *Bench) Prefill(n int, name string, sink func(n int) Prepared) {
	bn.b.Helper()
	warm := bn.Journal.AppendConcurrently(bn.b, Events("warm", 100, 10))
	p := sink(len(warm))
	p.Run()
	p.Cleanup()
	start := time.Now()
	for i := 0; i < n; i += 20000 {
		bn.Journal.AppendConcurrently(bn.b, Events(fmt.Sprintf("prefill%d", i), min(20000, n-i), 1000))
	}
	js, _ := bn.Journal.JetStream(bn.b)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s, err := js.Stream(ctx, bn.Journal.Config.Stream)
	if err != nil {
		bn.b.Fatal(err)
	}
	if _, err := sinks.Reposition(ctx, js, bn.Journal.Config.Stream, name, s.CachedInfo().State.LastSeq+1); err != nil {
		bn.b.Fatal(err)
	}
	bn.b.Logf("journal prefilled with %d events in %s", n, time.Since(start).Round(time.Second))
}

// Round journals the events gen makes and runs both sides on them: bare
// prepares its side for the events, made again by gen and put in journal
// order; sink prepares its side for as many events. The events are not
// held meanwhile: the process's live heap, which every garbage collection
// scans, is the journal's, the servers' and the side's own, not the
// benchmark's.
func (bn *Bench) Round(round int, gen func() []*connector.Event, bare func([]*connector.Event) Prepared, sink func(n int) Prepared) {
	bn.b.Helper()
	order := bn.Journal.appendInOrder(bn.b, gen())
	bareSide := func() Prepared { return bare(reorder(gen(), order)) }
	var tb, ts time.Duration
	if round%2 == 0 {
		tb = bn.bare.run(bn, round, "bare", bareSide())
		ts = bn.sink.run(bn, round, "sink", sink(len(order)))
	} else {
		ts = bn.sink.run(bn, round, "sink", sink(len(order)))
		tb = bn.bare.run(bn, round, "bare", bareSide())
	}
	bn.ratios = append(bn.ratios, tb.Seconds()/ts.Seconds())
	bn.events += len(order)
}

// reorder returns events in the order given by indexes.
func reorder(events []*connector.Event, order []int) []*connector.Event {
	out := make([]*connector.Event, len(order))
	for i, j := range order {
		out[i] = events[j]
	}
	return out
}

// Report reports the figures of every round so far.
func (bn *Bench) Report() {
	n := float64(bn.events)
	ratios := slices.Sorted(slices.Values(bn.ratios))
	bn.b.ReportMetric(n/bn.bare.wall.Seconds(), "bare-events/s")
	bn.b.ReportMetric(n/bn.sink.wall.Seconds(), "sink-events/s")
	bn.b.ReportMetric(bn.bare.wall.Seconds()/bn.sink.wall.Seconds(), "ratio")
	bn.b.ReportMetric(ratios[len(ratios)/2], "median-ratio")
	bn.b.ReportMetric(float64(bn.bare.cpu.Microseconds())/n, "bare-cpu-µs/event")
	bn.b.ReportMetric(float64(bn.sink.cpu.Microseconds())/n, "sink-cpu-µs/event")
	bn.b.ReportMetric(bn.bare.cpu.Seconds()/bn.sink.cpu.Seconds(), "cpu-ratio")
	bn.b.ReportMetric(float64(bn.bare.alloc)/n, "bare-B/event")
	bn.b.ReportMetric(float64(bn.sink.alloc)/n, "sink-B/event")
}

// run runs the measured part of one prepared side, then its clean-up, and
// returns the measured wall time.
func (s *side) run(bn *Bench, round int, name string, p Prepared) time.Duration {
	bn.b.Helper()
	defer p.Cleanup()
	stop := bn.startProfile(fmt.Sprintf("%s-%d.pprof", name, round))
	alloc := allocated()
	start, cpu := time.Now(), cpuTime(bn.b)
	p.Run()
	wall, used := time.Since(start), cpuTime(bn.b)-cpu
	s.alloc += allocated() - alloc
	stop()
	s.wall += wall
	s.cpu += used
	return wall
}

// startProfile starts a CPU profile into the profiles directory, if set,
// and returns what stops it.
func (bn *Bench) startProfile(name string) func() {
	if bn.profiles == "" {
		return func() {}
	}
	f, err := os.Create(filepath.Join(bn.profiles, name))
	if err != nil {
		bn.b.Fatal(err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		bn.b.Fatalf("profile: %v (not with -cpuprofile)", err)
	}
	return func() {
		pprof.StopCPUProfile()
		if err := f.Close(); err != nil {
			bn.b.Fatal(err)
		}
	}
}

// allocated returns the bytes the process has allocated on the heap so far.
func allocated() uint64 {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.TotalAlloc
}

// cpuTime returns the CPU time the process has used, user and system.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// AppendConcurrently journals the events with many appends in flight,
// failing the test if any is refused or was journaled before, and returns
// them in journal order.
func (j *Journal) AppendConcurrently(t testing.TB, events []*connector.Event) []*connector.Event {
	t.Helper()
	return reorder(events, j.appendInOrder(t, events))
}

// appendInOrder journals the events as AppendConcurrently does and returns
// their indexes in journal order.
func (j *Journal) appendInOrder(t testing.TB, events []*connector.Event) []int {
	t.Helper()
	seqs := make([]uint64, len(events))
	var next atomic.Int64
	var failed atomic.Value
	var wg sync.WaitGroup
	for range 64 {
		wg.Go(func() {
			for i := int(next.Add(1) - 1); i < len(events) && failed.Load() == nil; i = int(next.Add(1) - 1) {
				res, err := j.J.Append(context.Background(), events[i])
				if err == nil && res.Duplicate {
					err = fmt.Errorf("journaled before")
				}
				if err != nil {
					failed.Store(fmt.Errorf("append %s: %w", events[i].ID, err))
					return
				}
				seqs[i] = res.Seq
			}
		})
	}
	wg.Wait()
	if err, _ := failed.Load().(error); err != nil {
		t.Fatal(err)
	}
	order := make([]int, len(events))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return cmp.Compare(seqs[a], seqs[b]) })
	return order
}

// SinkSide prepares the sink's side of a round: a Runner of sink s on the
// journal, with w counted, for the n events journaled last. Run is the
// measured part (the Runner from its start until every event is written),
// Cleanup closes the Runner and its connection.
func (j *Journal) SinkSide(b *testing.B, s sinks.Sink, n int) Prepared {
	b.Helper()
	ctx := context.Background()
	js, nc := j.JetStream(b)
	cw := Counting(s.Writer, n)
	s.Writer = cw
	r, err := sinks.New(js, j.Config.Stream, Config(), []sinks.Sink{s},
		sinks.Settings{Logger: Logger(b), Registerer: prometheus.NewRegistry()})
	if err != nil {
		b.Fatal(err)
	}
	run := func() {
		if err := r.Start(ctx); err != nil {
			b.Fatal(err)
		}
		select {
		case <-cw.Done:
		case <-time.After(5 * time.Minute):
			b.Fatal("sink did not deliver every event")
		}
	}
	cleanup := func() {
		if err := r.Close(ctx); err != nil {
			b.Error(err)
		}
		nc.Close()
	}
	return Prepared{Run: run, Cleanup: cleanup}
}

// CountingWriter closes Done once want events were written through it. It
// passes Resume and Checkpoint on to the writer it wraps.
type CountingWriter struct {
	wrapped
	n    atomic.Int64
	want int64
	Done chan struct{}
}

// Counting returns a CountingWriter of w that waits for want events.
func Counting(w connector.Writer, want int) *CountingWriter {
	return &CountingWriter{wrapped: wrapped{w}, want: int64(want), Done: make(chan struct{})}
}

// Write passes batch on and counts what was written.
func (c *CountingWriter) Write(ctx context.Context, batch []*connector.Event) error {
	err := c.wrapped.Write(ctx, batch)
	n := 0
	for i := range batch {
		if connector.ErrorAt(err, i) == nil {
			n++
		}
	}
	if c.n.Add(int64(n)) >= c.want && c.n.Load()-int64(n) < c.want {
		close(c.Done)
	}
	return err
}
