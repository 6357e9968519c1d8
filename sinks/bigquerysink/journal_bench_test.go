package bigquerysink

import (
	"context"
	"flag"
	"fmt"
	"testing"
	"time"

	"cloud.google.com/go/bigquery/storage/managedwriter"

	connector "github.com/agentphone-connector/connector"
	"github.com/agentphone-connector/connector/sinks"
	"github.com/agentphone-connector/connector/sinks/bigquerysink/bqwritetest"
	"github.com/agentphone-connector/connector/sinks/sinktest"
)

var (
	benchRows     = flag.String("bq-rows", "check", "BenchmarkJournalToBigQuery: what the Storage Write server does with rows: check (decode and check them as BigQuery does, keep none) or count (only count them: the clients' own work alone)")
	phaseProfiles = flag.String("phase-profiles", "", "BenchmarkJournalToBigQuery: write a CPU profile of each measured side, setup left out, to this directory (bare-N.pprof, sink-N.pprof); not with -cpuprofile")
	benchPrefill  = flag.Int("prefill", 1_000_000, "BenchmarkJournalToBigQuery: events journaled before the measured ones")
)

// BenchmarkJournalToBigQuery measures events per second from the journal
// into BigQuery through the sink in committed mode (read, decode, rows for
// every table, appends at explicit offsets, save progress with the
// streams' offsets and ack the journal), and in the same run a bare
// managedwriter writing the same rows, serialized beforehand, through one
// committed stream per table at explicit offsets: per batch of the sink's
// size, in journal order, one append per table, tables in parallel, every
// answer awaited. Both write to the in-process Storage Write server, which
// keeps BigQuery's offsets and checks every row as BigQuery does, but keeps
// none (the garbage collector would scan them all, every cycle, on both
// sides); with -bq-rows count it only counts them, which leaves the
// clients' own work alone (see sinktest.Bench for the rounds and figures).
//
// The journal is on disk and holds -prefill events (1,000,000) before the
// measured ones: simulated traffic, ended calls with their transcripts,
// live turns, messages on every channel and reactions.
//
//	go test -run '^$' -bench JournalToBigQuery -benchtime 5x ./sinks/bigquerysink/
func BenchmarkJournalToBigQuery(b *testing.B) {
	srv, addr := fakeBigQuery(b)
	switch *benchRows {
	case "check":
		srv.SetRowMode(bqwritetest.CheckRows)
	case "count":
		srv.SetRowMode(bqwritetest.CountRows)
	default:
		b.Fatalf("-bq-rows %q: want check or count", *benchRows)
	}
	cfg := Config{Project: testProject, Dataset: testDataset, Location: "US", StorageEndpoint: addr, Stream: StreamCommitted,
		BatchSize: 500, BatchTimeout: 200 * time.Millisecond}
	bn := sinktest.NewBench(b, *phaseProfiles)
	sink := func(n int) sinktest.Prepared { return benchJournalSink(b, bn.Journal, cfg, n) }
	bn.Prefill(*benchPrefill, Name, sink)
	for i := 0; b.Loop(); i++ {
		bn.Round(i, func() []*connector.Event { return roundEvents(i) },
			func(events []*connector.Event) sinktest.Prepared { return prepareBare(b, cfg, events) }, sink)
	}
	bn.Report()
}

// roundEvents is about 30,000 events of simulated traffic, with IDs and
// calls of the round's own.
func roundEvents(round int) []*connector.Event {
	events := simulate(uint64(round), 3000, 18000, 3000)
	for _, e := range events {
		e.ID = fmt.Sprintf("r%d-%s", round, e.ID)
		if e.CallID != "" {
			e.CallID = fmt.Sprintf("r%d-%s", round, e.CallID)
			e.Subject = e.CallID
		}
	}
	return events
}

// prepareBare serializes the rows of events per batch of the sink's size
// and table, and opens one committed stream per table; the measured part
// appends them.
func prepareBare(b *testing.B, cfg Config, events []*connector.Event) sinktest.Prepared {
	b.Helper()
	tables, err := buildTables()
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	mw, _, err := newWriteClient(ctx, cfg)
	if err != nil {
		b.Fatal(err)
	}
	streams := make([]*managedwriter.ManagedStream, len(tables))
	for i, t := range tables {
		ws, err := newWriterSchema(t)
		if err != nil {
			b.Fatal(err)
		}
		streams[i], err = mw.NewManagedStream(ctx, managedwriter.WithDestinationTable(managedwriter.TableParentFromParts(testProject, testDataset, t.Name)),
			managedwriter.WithType(managedwriter.CommittedStream), managedwriter.WithSchemaDescriptor(ws.desc), managedwriter.EnableWriteRetries(true))
		if err != nil {
			b.Fatal(err)
		}
	}
	var batches [][][][]byte // batch → table → rows
	for i := 0; i < len(events); i += cfg.BatchSize {
		per := make([][][]byte, len(tables))
		for _, e := range events[i:min(i+cfg.BatchSize, len(events))] {
			for ti, t := range tables {
				rs, _ := t.rows(e)
				for _, r := range rs {
					per[ti] = append(per[ti], t.encode(nil, r))
				}
			}
		}
		batches = append(batches, per)
	}
	run := func() { appendBatches(b, streams, batches) }
	cleanup := func() {
		for _, s := range streams {
			s.Close()
		}
		mw.Close()
	}
	return sinktest.Prepared{Run: run, Cleanup: cleanup}
}

// appendBatches appends each batch's rows, one append per table at its
// stream's next offset, and waits for every answer before the next batch.
func appendBatches(b *testing.B, streams []*managedwriter.ManagedStream, batches [][][][]byte) {
	ctx := context.Background()
	offsets := make([]int64, len(streams))
	results := make([]*managedwriter.AppendResult, len(streams))
	for _, per := range batches {
		for ti, data := range per {
			results[ti] = nil
			if len(data) == 0 {
				continue
			}
			var err error
			if results[ti], err = streams[ti].AppendRows(ctx, data, managedwriter.WithOffset(offsets[ti])); err != nil {
				b.Fatal(err)
			}
			offsets[ti] += int64(len(data))
		}
		for _, r := range results {
			if r == nil {
				continue
			}
			if _, err := r.GetResult(ctx); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// benchJournalSink prepares the sink's side of a round (see
// sinktest.SinkSide).
func benchJournalSink(b *testing.B, j *sinktest.Journal, cfg Config, n int) sinktest.Prepared {
	s, err := New(context.Background(), cfg, Settings{Logger: sinktest.Logger(b)})
	if err != nil {
		b.Fatal(err)
	}
	return j.SinkSide(b, sinks.Sink{Name: Name, Writer: s, Batch: cfg.Batching()}, n)
}
