package bigquerysink

import (
	"fmt"
	"testing"
	"time"

	connector "github.com/agentphone-connector/connector"
	"github.com/agentphone-connector/connector/sinks/bigquerysink/bqwritetest"
	"github.com/agentphone-connector/connector/sinks/sinktest"
)

// The BigQuery sink passes the conformance suite every sink passes, against
// the in-process Storage Write server.
func TestConformance(t *testing.T) {
	sinktest.Run(t, func(t *testing.T) sinktest.Target {
		srv, addr := fakeBigQuery(t)
		return &target{srv: srv, addr: addr}
	})
}

type target struct {
	srv  *bqwritetest.Server
	addr string
}

func (x *target) Name() string { return Name }

// TimeoutAfterWrite has the server write the next n appends and answer
// them after the sink's write timeout.
func (x *target) TimeoutAfterWrite(_ *testing.T, n int) {
	x.srv.DelayAcks(n, sinktest.WriteTimeout+time.Second)
}

func (x *target) NewWriter(t *testing.T) connector.Writer {
	cfg := Config{Project: testProject, Dataset: testDataset, Location: "US", StorageEndpoint: x.addr,
		Stream: StreamCommitted, BatchSize: 500, BatchTimeout: time.Second}
	s, err := New(t.Context(), cfg, Settings{Logger: sinktest.Logger(t)})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// CheckOnce fails when any table holds a row twice: one row per event,
// per event and position for call turns.
func (x *target) CheckOnce(t *testing.T) {
	t.Helper()
	tables, err := Tables()
	if err != nil {
		t.Fatal(err)
	}
	for _, tb := range tables {
		seen := map[string]int{}
		for _, r := range x.srv.Rows(testProject, testDataset, tb.Name) {
			key := fmt.Sprint(r["event_id"], "/", r["position"])
			if seen[key]++; seen[key] == 2 {
				t.Errorf("table %s holds %s twice", tb.Name, key)
			}
		}
	}
}

// Read returns the events table in append order.
func (x *target) Read(t *testing.T) []sinktest.Received {
	var out []sinktest.Received
	for _, r := range x.srv.Rows(testProject, testDataset, TableEvents) {
		id, _ := r["event_id"].(string)
		key, _ := r["subject"].(string)
		out = append(out, sinktest.Received{ID: id, Key: key})
	}
	return out
}

func (x *target) Outage(t *testing.T) func() {
	x.srv.Stop()
	return func() {
		if err := x.srv.Restart(); err != nil {
			t.Fatal(err)
		}
	}
}

// Poison gives the event data that does not fit its table's columns.
func (x *target) Poison(e *connector.Event) *connector.Event {
	e.Data = []byte(`{"message_id":"m","media_urls":"not a list"}`)
	return e
}
