package bigquerysink

import (
	"context"
	"errors"
	"testing"
	"time"

	"cloud.google.com/go/bigquery/storage/managedwriter/adapt"
	"github.com/prometheus/client_golang/prometheus"

	connector "github.com/agentphone-connector/connector"
	"github.com/agentphone-connector/connector/sinks/bigquerysink/bqwritetest"
)

const (
	testProject = "proj"
	testDataset = "analytics"
)

// fakeBigQuery starts the in-process Storage Write server with every table
// of the sink, stopped when the test ends.
func fakeBigQuery(t testing.TB) (*bqwritetest.Server, string) {
	t.Helper()
	srv := bqwritetest.New()
	tables, err := Tables()
	if err != nil {
		t.Fatal(err)
	}
	for _, tb := range tables {
		addTable(t, srv, tb)
	}
	addr, err := srv.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Stop)
	return srv, addr
}

// newTestSink returns a sink writing to the fake at addr in the given stream
// mode, closed when the test ends.
func newTestSink(t testing.TB, addr, stream string) *Sink {
	t.Helper()
	cfg := Config{Project: testProject, Dataset: testDataset, Location: "US", StorageEndpoint: addr, Stream: stream,
		BatchSize: 500, BatchTimeout: time.Second}
	s, err := New(context.Background(), cfg, Settings{Registerer: prometheus.NewRegistry()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close(context.Background()) })
	return s
}

// countBy counts the rows of a table of the fake by the value of column.
func countBy(srv *bqwritetest.Server, table, column string) map[any]int {
	out := map[any]int{}
	for _, r := range srv.Rows(testProject, testDataset, table) {
		out[r[column]]++
	}
	return out
}

// expected counts the rows each table must hold for events written once.
func expected(t testing.TB, events []*connector.Event) map[string]int {
	t.Helper()
	tables, err := buildTables()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for _, e := range events {
		for _, tb := range tables {
			rs, err := tb.rows(e)
			if err != nil {
				t.Fatal(err)
			}
			out[tb.Name] += len(rs)
		}
	}
	return out
}

// assertOnce checks that every table holds exactly the rows of events, each once.
func assertOnce(t *testing.T, srv *bqwritetest.Server, events []*connector.Event) {
	t.Helper()
	for table, n := range expected(t, events) {
		if got := len(srv.Rows(testProject, testDataset, table)); got != n {
			t.Errorf("table %s: %d rows, want %d", table, got, n)
		}
	}
	ids := countBy(srv, TableEvents, "event_id")
	for _, e := range events {
		if ids[e.ID] != 1 {
			t.Errorf("event %s: %d rows in events, want 1", e.ID, ids[e.ID])
		}
	}
}

// writeAll writes events in batches of size n and fails on any error
// (events found already written are not errors).
func writeAll(t testing.TB, s *Sink, events []*connector.Event, n int) {
	t.Helper()
	for i := 0; i < len(events); i += n {
		batch := events[i:min(i+n, len(events))]
		err := s.Write(context.Background(), batch)
		for j := range batch {
			if e := connector.ErrorAt(err, j); e != nil && !errors.Is(e, connector.ErrAlreadyWritten) {
				t.Fatalf("write batch at %d: %v", i, err)
			}
		}
	}
}

// addTable creates (or changes the schema of) a table on the fake.
func addTable(t testing.TB, srv *bqwritetest.Server, tb Table) {
	t.Helper()
	ts, err := adapt.BQSchemaToStorageTableSchema(tb.Schema)
	if err != nil {
		t.Fatal(err)
	}
	srv.AddTable(testProject, testDataset, tb.Name, ts)
}
