package kafkasink

import (
	"context"
	"flag"
	"fmt"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kfake"

	connector "github.com/agentphone-connector/connector"
	"github.com/agentphone-connector/connector/sinks"
	"github.com/agentphone-connector/connector/sinks/sinktest"
)

var phaseProfiles = flag.String("phase-profiles", "", "BenchmarkJournalToKafka: write a CPU profile of each measured side, setup left out, to this directory (bare-N.pprof, sink-N.pprof); not with -cpuprofile")

var benchPrefill = flag.Int("prefill", 1_000_000, "BenchmarkJournalToKafka: events journaled before the measured ones")

// BenchmarkJournalToKafka measures events per second from the journal into
// Kafka through the sink (read, decode, encode, produce, save progress and
// ack, exactly once: the ledger on, progress saved every batch), and in the
// same run a bare kafka-go Writer with the same settings writing the same
// records, pre-encoded, in batches of the same size, in journal order, to
// the same broker (see sinktest.Bench).
//
// The journal is on disk and holds -prefill events (1,000,000) before the
// measured ones. Each iteration is one round of both over benchEvents new
// events. The sink's side runs from Runner.Start (taking the lease, setting
// up the consumer, reading the partitions' ends back) until the Writer has
// written the last event; both sides dial the broker afresh.
//
//	go test -run '^$' -bench JournalToKafka -benchtime 5x ./sinks/kafkasink/
//
// With -phase-profiles DIR it also writes a CPU profile of each measured
// side; `go tool pprof -top DIR/sink-*.pprof` merges a side's rounds.
func BenchmarkJournalToKafka(b *testing.B) {
	const benchEvents = 50_000
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(6, "bare", "sink"))
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	cfg := Config{
		Brokers: c.ListenAddrs(), Topic: "sink", Mode: ModeBinary, Compression: "zstd",
		BatchSize: 500, BatchBytes: 1_000_000, BatchTimeout: 50 * time.Millisecond, Timeout: 10 * time.Second, ClientID: "bench",
	}
	bn := sinktest.NewBench(b, *phaseProfiles)
	sink := func(n int) sinktest.Prepared { return benchSink(b, bn.Journal, cfg, n) }
	bn.Prefill(*benchPrefill, Name, sink)
	for i := 0; b.Loop(); i++ {
		bn.Round(i, func() []*connector.Event { return sinktest.Events(fmt.Sprintf("bench%d", i), benchEvents, 64) },
			func(events []*connector.Event) sinktest.Prepared { return benchBare(b, cfg, events) }, sink)
	}
	bn.Report()
}

// benchBare prepares a bare kafka-go Writer and the events' records, and
// returns the measured part (writing them in batches) and the clean-up.
func benchBare(b *testing.B, cfg Config, events []*connector.Event) sinktest.Prepared {
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
	return sinktest.Prepared{Run: run, Cleanup: func() { _ = w.Close() }}
}

// benchSink prepares the sink's side of a round (see sinktest.SinkSide).
func benchSink(b *testing.B, j *sinktest.Journal, cfg Config, n int) sinktest.Prepared {
	w, err := New(cfg, Settings{Logger: sinktest.Logger(b)})
	if err != nil {
		b.Fatal(err)
	}
	return j.SinkSide(b, sinks.Sink{Name: Name, Writer: w, Batch: cfg.Batching()}, n)
}
