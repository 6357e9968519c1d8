package natssink_test

import (
	"context"
	"flag"
	"fmt"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	connector "github.com/agentphone-connector/connector"
	"github.com/agentphone-connector/connector/sinks"
	"github.com/agentphone-connector/connector/sinks/natssink"
	"github.com/agentphone-connector/connector/sinks/sinktest"
)

var (
	phaseProfiles = flag.String("phase-profiles", "", "BenchmarkJournalToNATS: write a CPU profile of each measured side, setup left out, to this directory (bare-N.pprof, sink-N.pprof); not with -cpuprofile")
	benchPrefill  = flag.Int("prefill", 1_000_000, "BenchmarkJournalToNATS: events journaled before the measured ones")
)

// BenchmarkJournalToNATS measures events per second from the journal into
// a JetStream stream on another NATS server through the sink (read, decode,
// publish with Nats-Msg-Id, wait for every ack, save progress and ack the
// journal), and in the same run a bare JetStream async publisher with
// Nats-Msg-Id publishing the same messages, prepared beforehand, in batches
// of the same size, in journal order, each batch's acks awaited, to a
// stream of its own on the same server (see sinktest.Bench).
//
// The journal is on disk and holds -prefill events (1,000,000) before the
// measured ones; the target's streams are on disk too.
//
//	go test -run '^$' -bench JournalToNATS -benchtime 5x ./sinks/natssink/
func BenchmarkJournalToNATS(b *testing.B) {
	const benchEvents = 50_000
	s := startTarget(b)
	js := s.jetStream(b)
	for name, subjects := range map[string]string{targetStream: "agentphone.>", "BARE": "bare.>"} {
		if _, err := js.CreateStream(context.Background(), jetstream.StreamConfig{
			Name: name, Subjects: []string{subjects}, Duplicates: 2 * time.Minute, Storage: jetstream.FileStorage,
		}); err != nil {
			b.Fatal(err)
		}
	}
	cfg := testConfig(s.url())
	bn := sinktest.NewBench(b, *phaseProfiles)
	sink := func(n int) sinktest.Prepared { return benchSink(b, bn.Journal, cfg, n) }
	bn.Prefill(*benchPrefill, natssink.Name, sink)
	for i := 0; b.Loop(); i++ {
		bn.Round(i, func() []*connector.Event { return sinktest.Events(fmt.Sprintf("bench%d", i), benchEvents, 64) },
			func(events []*connector.Event) sinktest.Prepared { return benchBare(b, s.url(), cfg, events) }, sink)
	}
	bn.Report()
}

// benchBare prepares the messages of events (the envelope, on the journal's
// subject under bare.) and a JetStream publisher on a connection of its
// own; the measured part publishes them in batches, each with Nats-Msg-Id,
// and waits for every batch's acks.
func benchBare(b *testing.B, url string, cfg natssink.Config, events []*connector.Event) sinktest.Prepared {
	b.Helper()
	msgs := make([]*nats.Msg, len(events))
	for i, e := range events {
		data, err := e.Marshal()
		if err != nil {
			b.Fatal(err)
		}
		msgs[i] = &nats.Msg{Subject: e.SubjectIn("bare"), Data: data, Header: nats.Header{"Content-Type": {connector.ContentType}}}
	}
	nc, err := nats.Connect(url)
	if err != nil {
		b.Fatal(err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		b.Fatal(err)
	}
	run := func() {
		futures := make([]jetstream.PubAckFuture, 0, cfg.BatchSize)
		for i := 0; i < len(msgs); i += cfg.BatchSize {
			futures = futures[:0]
			for j, m := range msgs[i:min(i+cfg.BatchSize, len(msgs))] {
				f, err := js.PublishMsgAsync(m, jetstream.WithMsgID(events[i+j].ID), jetstream.WithExpectStream("BARE"))
				if err != nil {
					b.Fatal(err)
				}
				futures = append(futures, f)
			}
			for _, f := range futures {
				select {
				case <-f.Ok():
				case err := <-f.Err():
					b.Fatal(err)
				}
			}
		}
	}
	return sinktest.Prepared{Run: run, Cleanup: nc.Close}
}

// benchSink prepares the sink's side of a round (see sinktest.SinkSide).
func benchSink(b *testing.B, j *sinktest.Journal, cfg natssink.Config, n int) sinktest.Prepared {
	w, err := natssink.New(cfg, natssink.Settings{Logger: sinktest.Logger(b)})
	if err != nil {
		b.Fatal(err)
	}
	return j.SinkSide(b, sinks.Sink{Name: natssink.Name, Writer: w, Batch: cfg.Batching()}, n)
}
