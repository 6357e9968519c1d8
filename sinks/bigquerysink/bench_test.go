package bigquerysink

import (
	"context"
	"testing"

	"cloud.google.com/go/bigquery/storage/managedwriter"

	connector "github.com/agentphone-connector/connector"
)

const benchBatch = 100 // events per Write, as the delivery machinery batches them

// BenchmarkWrite measures rows per second through the sink and through a
// bare managedwriter append of the very same serialized rows (one append per
// table and batch, tables in parallel, waiting for every answer), both
// against the in-process fake server, in one run:
//
//	go test -run '^$' -bench Write -benchtime 20x ./sinks/bigquerysink/
//
// sink/X ÷ bare/X is the cost of the sink's own work (encoding, offsets,
// outcome bookkeeping); sink/committed ÷ sink/default is the cost of
// committed streams with offsets over the default stream.
func BenchmarkWrite(b *testing.B) {
	events := simulate(9, 100, 300, 50)
	for _, mode := range []string{StreamCommitted, StreamDefault} {
		b.Run("sink/"+mode, func(b *testing.B) {
			_, addr := fakeBigQuery(b)
			s := newTestSink(b, addr, mode)
			perLoop, rows := totalRows(b, events), 0
			for b.Loop() {
				writeAll(b, s, events, benchBatch)
				rows += perLoop
			}
			b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "rows/s")
		})
		b.Run("bare/"+mode, func(b *testing.B) { benchBare(b, events, mode == StreamCommitted) })
	}
}

func totalRows(b *testing.B, events []*connector.Event) int {
	n := 0
	for _, c := range expected(b, events) {
		n += c
	}
	return n
}

// benchBare appends the sink's rows for events straight through managedwriter.
func benchBare(b *testing.B, events []*connector.Event, committed bool) {
	_, addr := fakeBigQuery(b)
	tables, err := buildTables()
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	mw, _, err := newWriteClient(ctx, Config{Project: testProject, StorageEndpoint: addr})
	if err != nil {
		b.Fatal(err)
	}
	defer mw.Close()
	typ := managedwriter.DefaultStream
	if committed {
		typ = managedwriter.CommittedStream
	}
	streams := make([]*managedwriter.ManagedStream, len(tables))
	for i, t := range tables {
		ws, err := newWriterSchema(t)
		if err != nil {
			b.Fatal(err)
		}
		streams[i], err = mw.NewManagedStream(ctx, managedwriter.WithDestinationTable(managedwriter.TableParentFromParts(testProject, testDataset, t.Name)),
			managedwriter.WithType(typ), managedwriter.WithSchemaDescriptor(ws.desc), managedwriter.EnableWriteRetries(true))
		if err != nil {
			b.Fatal(err)
		}
	}
	var batches [][][][]byte // batch → table → rows
	for i := 0; i < len(events); i += benchBatch {
		per := make([][][]byte, len(tables))
		for _, e := range events[i:min(i+benchBatch, len(events))] {
			for ti, t := range tables {
				rs, _ := t.rows(e)
				for _, r := range rs {
					per[ti] = append(per[ti], t.encode(nil, r))
				}
			}
		}
		batches = append(batches, per)
	}
	offsets := make([]int64, len(tables))
	rows := 0
	for b.Loop() {
		for _, per := range batches {
			results := make([]*managedwriter.AppendResult, len(tables))
			for ti, data := range per {
				if len(data) == 0 {
					continue
				}
				var opts []managedwriter.AppendOption
				if committed {
					opts = append(opts, managedwriter.WithOffset(offsets[ti]))
					offsets[ti] += int64(len(data))
				}
				if results[ti], err = streams[ti].AppendRows(ctx, data, opts...); err != nil {
					b.Fatal(err)
				}
				rows += len(data)
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
	b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "rows/s")
	for _, s := range streams {
		s.Close()
	}
}
