package kafkasink

import (
	"context"
	"fmt"
	"slices"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kfake"

	connector "github.com/agentphone-connector/connector"
	"github.com/agentphone-connector/connector/sinks"
	"github.com/agentphone-connector/connector/sinks/sinktest"
)

// BenchmarkJournalToKafka measures events per second from the journal into
// Kafka through the sink (read, decode, encode, produce, ack), and in the
// same run a bare kafka-go Writer with the same settings writing the same
// records, pre-encoded, in batches of the same size. Each iteration is one
// round of both, in turn, over benchEvents events. It reports both rates over
// all rounds, and the median of the rounds' ratios (sink/bare), which a
// burst of load from other processes on the machine disturbs least:
//
//	go test -run '^$' -bench JournalToKafka -benchtime 10x ./sinks/kafkasink/
func BenchmarkJournalToKafka(b *testing.B) {
	const benchEvents = 10000
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(6, "bare", "sink"))
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	cfg := Config{
		Brokers: c.ListenAddrs(), Topic: "sink", Mode: ModeBinary, Compression: "zstd",
		BatchSize: 500, BatchBytes: 1_000_000, BatchTimeout: 50 * time.Millisecond, Timeout: 10 * time.Second, ClientID: "bench",
	}
	var bare, sink, bareCPU, sinkCPU time.Duration
	var ratios []float64
	for i := 0; b.Loop(); i++ {
		events := sinktest.Events(fmt.Sprintf("bench%d", i), benchEvents, 64)
		tb, cb := benchBare(b, cfg, events)
		ts, cs := benchSink(b, cfg, events)
		bare, sink, bareCPU, sinkCPU = bare+tb, sink+ts, bareCPU+cb, sinkCPU+cs
		ratios = append(ratios, tb.Seconds()/ts.Seconds())
	}
	n := float64(b.N * benchEvents)
	slices.Sort(ratios)
	b.ReportMetric(n/bare.Seconds(), "bare-events/s")
	b.ReportMetric(n/sink.Seconds(), "sink-events/s")
	b.ReportMetric(ratios[len(ratios)/2], "median-ratio")
	// CPU of the whole process (broker and NATS server included) per event:
	// what the journal costs on top of a bare write, whatever the load.
	b.ReportMetric(float64(bareCPU.Microseconds())/n, "bare-cpu-µs/event")
	b.ReportMetric(float64(sinkCPU.Microseconds())/n, "sink-cpu-µs/event")
}

// cpuTime returns the CPU time the process has used, user and system.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// benchBare writes the events' records with a bare kafka-go Writer and
// returns the time and the CPU it took.
func benchBare(b *testing.B, cfg Config, events []*connector.Event) (time.Duration, time.Duration) {
	b.Helper()
	enc := newEncoder(Config{Topic: "bare", Mode: cfg.Mode})
	msgs := make([]kafka.Message, len(events))
	for i, e := range events {
		msgs[i], _ = enc.message(e)
	}
	w := &kafka.Writer{
		Addr: kafka.TCP(cfg.Brokers...), Balancer: &kafka.Murmur2Balancer{}, MaxAttempts: 1,
		BatchSize: cfg.BatchSize, BatchBytes: 2 * int64(cfg.BatchBytes), BatchTimeout: time.Millisecond,
		RequiredAcks: kafka.RequireAll, Compression: kafka.Zstd,
	}
	defer w.Close()
	start, cpu := time.Now(), cpuTime(b)
	for i := 0; i < len(msgs); i += cfg.BatchSize {
		if err := w.WriteMessages(context.Background(), msgs[i:min(i+cfg.BatchSize, len(msgs))]...); err != nil {
			b.Fatal(err)
		}
	}
	return time.Since(start), cpuTime(b) - cpu
}

// benchSink journals the events (not timed), then times the Runner from
// start until the sink has written them all; it returns the time and the CPU.
func benchSink(b *testing.B, cfg Config, events []*connector.Event) (time.Duration, time.Duration) {
	b.Helper()
	j := sinktest.StartJournal(b)
	j.Append(b, events...)
	w, err := New(cfg, Settings{Logger: sinktest.Logger(b)})
	if err != nil {
		b.Fatal(err)
	}
	done := make(chan struct{})
	cw := &countingWriter{Writer: w, want: int64(len(events)), done: done}
	js, _ := j.JetStream(b)
	r, err := sinks.New(js, j.Config.Stream, sinktest.Config(), []sinks.Sink{{Name: Name, Writer: cw, Batch: cfg.Batching()}},
		sinks.Settings{Logger: sinktest.Logger(b), Registerer: prometheus.NewRegistry()})
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close(context.Background())
	start, cpu := time.Now(), cpuTime(b)
	if err := r.Start(context.Background()); err != nil {
		b.Fatal(err)
	}
	select {
	case <-done:
	case <-time.After(2 * time.Minute):
		b.Fatal("sink did not deliver every event")
	}
	return time.Since(start), cpuTime(b) - cpu
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
