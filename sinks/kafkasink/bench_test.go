package kafkasink

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kfake"

	connector "github.com/agentphone-connector/connector"
	"github.com/agentphone-connector/connector/sinks"
	"github.com/agentphone-connector/connector/sinks/sinktest"
)

var phaseProfiles = flag.String("phase-profiles", "", "BenchmarkJournalToKafka: write a CPU profile of each measured phase, setup left out, to this directory (bare-N.pprof, sink-N.pprof); not with -cpuprofile")

// BenchmarkJournalToKafka measures events per second from the journal into
// Kafka through the sink (read, decode, encode, produce, ack), and in the
// same run a bare kafka-go Writer with the same settings writing the same
// records, pre-encoded, in batches of the same size, to the same broker.
//
// Each iteration is one round of both over benchEvents events, the order of
// the two alternating from round to round. Setup is not measured: the bare
// side's records are encoded and the sink's events journaled beforehand, and
// each phase starts after a garbage collection, so neither pays for the
// other's garbage. The sink's phase runs from Runner.Start (consumer set-up
// included) until the Writer has written the last event; both phases dial
// the broker afresh.
//
// It reports both rates and their ratio over all rounds (ratio), the median
// of the rounds' ratios (median-ratio, which a burst of load from other
// processes disturbs least), and the process CPU per event of each side
// (getrusage: the broker, the NATS server and compression included, as they
// share the process), with their ratio (cpu-ratio, bare/sink):
//
//	go test -run '^$' -bench JournalToKafka -benchtime 10x ./sinks/kafkasink/
//
// With -phase-profiles DIR it also writes a CPU profile of each measured
// phase; `go tool pprof -top DIR/sink-*.pprof` merges a side's rounds.
func BenchmarkJournalToKafka(b *testing.B) {
	const benchEvents = 20000
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(6, "bare", "sink"))
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	cfg := Config{
		Brokers: c.ListenAddrs(), Topic: "sink", Mode: ModeBinary, Compression: "zstd",
		BatchSize: 500, BatchBytes: 1_000_000, BatchTimeout: 50 * time.Millisecond, Timeout: 10 * time.Second, ClientID: "bench",
	}
	j := sinktest.StartJournal(b)
	var bare, sink phase
	var ratios []float64
	for i := 0; b.Loop(); i++ {
		events := sinktest.Events(fmt.Sprintf("bench%d", i), benchEvents, 64)
		var tb, ts time.Duration
		if i%2 == 0 {
			tb = bare.add(b, i, "bare", benchBare(b, cfg, events))
			ts = sink.add(b, i, "sink", benchSink(b, j, cfg, events))
		} else {
			ts = sink.add(b, i, "sink", benchSink(b, j, cfg, events))
			tb = bare.add(b, i, "bare", benchBare(b, cfg, events))
		}
		ratios = append(ratios, tb.Seconds()/ts.Seconds())
	}
	n := float64(b.N * benchEvents)
	slices.Sort(ratios)
	b.ReportMetric(n/bare.wall.Seconds(), "bare-events/s")
	b.ReportMetric(n/sink.wall.Seconds(), "sink-events/s")
	b.ReportMetric(bare.wall.Seconds()/sink.wall.Seconds(), "ratio")
	b.ReportMetric(ratios[len(ratios)/2], "median-ratio")
	b.ReportMetric(float64(bare.cpu.Microseconds())/n, "bare-cpu-µs/event")
	b.ReportMetric(float64(sink.cpu.Microseconds())/n, "sink-cpu-µs/event")
	b.ReportMetric(bare.cpu.Seconds()/sink.cpu.Seconds(), "cpu-ratio")
}

// phase adds up the wall and CPU time of one side's rounds.
type phase struct{ wall, cpu time.Duration }

// prepared is one side's round, set up: the part to measure and the clean-up.
type prepared struct{ run, cleanup func() }

// add runs the measured part of one prepared round, then its clean-up, and
// returns the measured wall time.
func (p *phase) add(b *testing.B, round int, name string, r prepared) time.Duration {
	b.Helper()
	defer r.cleanup()
	runtime.GC()
	stop := startProfile(b, fmt.Sprintf("%s-%d.pprof", name, round))
	start, cpu := time.Now(), cpuTime(b)
	r.run()
	wall, used := time.Since(start), cpuTime(b)-cpu
	stop()
	p.wall += wall
	p.cpu += used
	return wall
}

// startProfile starts a CPU profile into -phase-profiles/name, if set, and
// returns what stops it.
func startProfile(b *testing.B, name string) func() {
	if *phaseProfiles == "" {
		return func() {}
	}
	f, err := os.Create(filepath.Join(*phaseProfiles, name))
	if err != nil {
		b.Fatal(err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		b.Fatalf("-phase-profiles: %v", err)
	}
	return func() {
		pprof.StopCPUProfile()
		if err := f.Close(); err != nil {
			b.Fatal(err)
		}
	}
}

// cpuTime returns the CPU time the process has used, user and system.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// benchBare prepares a bare kafka-go Writer and the events' records, and
// returns the measured part (writing them in batches) and the clean-up.
func benchBare(b *testing.B, cfg Config, events []*connector.Event) prepared {
	b.Helper()
	enc := newEncoder(Config{Topic: "bare", Mode: cfg.Mode})
	msgs := make([]kafka.Message, len(events))
	sc := newScratch(len(events))
	for i, e := range events {
		msgs[i], _ = enc.message(e, sc)
	}
	w := &kafka.Writer{
		Addr: kafka.TCP(cfg.Brokers...), Balancer: &kafka.Murmur2Balancer{}, MaxAttempts: 1,
		BatchSize: cfg.BatchSize, BatchBytes: 2 * int64(cfg.BatchBytes), BatchTimeout: time.Millisecond,
		RequiredAcks: kafka.RequireAll, Compression: kafka.Zstd,
	}
	run := func() {
		for i := 0; i < len(msgs); i += cfg.BatchSize {
			if err := w.WriteMessages(context.Background(), msgs[i:min(i+cfg.BatchSize, len(msgs))]...); err != nil {
				b.Fatal(err)
			}
		}
	}
	return prepared{run, func() { _ = w.Close() }}
}

// benchSink journals the events on an emptied journal and prepares a Runner
// of the sink; it returns the measured part (the Runner from its start until
// the sink has written every event) and the clean-up.
func benchSink(b *testing.B, j *sinktest.Journal, cfg Config, events []*connector.Event) prepared {
	b.Helper()
	ctx := context.Background()
	js, nc := j.JetStream(b)
	resetJournal(b, js, j.Config.Stream)
	j.Append(b, events...)
	w, err := New(cfg, Settings{Logger: sinktest.Logger(b)})
	if err != nil {
		b.Fatal(err)
	}
	done := make(chan struct{})
	cw := &countingWriter{Writer: w, want: int64(len(events)), done: done}
	r, err := sinks.New(js, j.Config.Stream, sinktest.Config(), []sinks.Sink{{Name: Name, Writer: cw, Batch: cfg.Batching()}},
		sinks.Settings{Logger: sinktest.Logger(b), Registerer: prometheus.NewRegistry()})
	if err != nil {
		b.Fatal(err)
	}
	run := func() {
		if err := r.Start(ctx); err != nil {
			b.Fatal(err)
		}
		select {
		case <-done:
		case <-time.After(2 * time.Minute):
			b.Fatal("sink did not deliver every event")
		}
	}
	cleanup := func() {
		if err := r.Close(ctx); err != nil {
			b.Error(err)
		}
		nc.Close()
	}
	return prepared{run, cleanup}
}

// resetJournal empties the journal and removes the sink's consumer, so a
// round starts as on a fresh journal without a server per round.
func resetJournal(b *testing.B, js jetstream.JetStream, stream string) {
	ctx := context.Background()
	s, err := js.Stream(ctx, stream)
	if err != nil {
		b.Fatal(err)
	}
	if err := s.Purge(ctx); err != nil {
		b.Fatal(err)
	}
	if err := s.DeleteConsumer(ctx, sinks.ConsumerName(Name)); err != nil && err != jetstream.ErrConsumerNotFound {
		b.Fatal(err)
	}
}

// countingWriter closes done once want events were written.
type countingWriter struct {
	connector.Writer
	n, want int64
	done    chan struct{}
}

func (c *countingWriter) Write(ctx context.Context, batch []*connector.Event) error {
	err := c.Writer.Write(ctx, batch)
	if err == nil && atomic.AddInt64(&c.n, int64(len(batch))) == c.want {
		close(c.done)
	}
	return err
}
