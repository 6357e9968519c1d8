package kafkasink

import (
	"context"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/agentphone-connector/connector/sinks"
	"github.com/agentphone-connector/connector/sinks/sinktest"
)

// BenchmarkReadBack measures what taking the sink over costs: Resume from a
// checkpoint behind which the last holder wrote three batches (1,500
// events over 6 partitions), read back to skip them. It reports the time
// per takeover and per event read back:
//
//	go test -run '^$' -bench ReadBack -benchtime 20x ./sinks/kafkasink/
func BenchmarkReadBack(b *testing.B) {
	const behind = 1500
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(6, "sink"))
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	cfg := Config{
		Brokers: c.ListenAddrs(), Topic: "sink", Mode: ModeBinary, Compression: "zstd",
		BatchSize: 500, BatchBytes: 1_000_000, BatchTimeout: 50 * time.Millisecond, Timeout: 10 * time.Second, ClientID: "bench",
	}
	ctx := context.Background()
	old, err := New(cfg, Settings{Logger: sinktest.Logger(b)})
	if err != nil {
		b.Fatal(err)
	}
	defer old.Close(ctx)
	if err := old.Resume(ctx, sinks.Resume{}); err != nil {
		b.Fatal(err)
	}
	cp, err := old.Checkpoint()
	if err != nil {
		b.Fatal(err)
	}
	if err := old.Write(ctx, sinktest.Events("behind", behind, 64)); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		w, err := New(cfg, Settings{Logger: sinktest.Logger(b)})
		if err != nil {
			b.Fatal(err)
		}
		if err := w.Resume(ctx, sinks.Resume{State: cp}); err != nil {
			b.Fatal(err)
		}
		if n := len(w.ledger.skip); n != behind {
			b.Fatalf("read back %d events, want %d", n, behind)
		}
		_ = w.Close(ctx)
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*behind), "µs/event-read-back")
}
