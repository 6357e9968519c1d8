package transcript

import (
	"context"
	"encoding/json"
	"log/slog"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"go.uber.org/goleak"

	connector "github.com/agentphone-connector/connector"
	"github.com/agentphone-connector/connector/agentphonetest"
	"github.com/agentphone-connector/connector/dedupe"
	"github.com/agentphone-connector/connector/journal/journaltest"
	"github.com/agentphone-connector/connector/sources/agentphoneapi"
)

// heartbeat is the test server's, short and real: a stalled connection is
// noticed after three of them.
const heartbeat = 100 * time.Millisecond

// rig is a real journal and an AgentPhone test server.
type rig struct {
	env *journaltest.Env
	srv *agentphonetest.Server
	js  jetstream.JetStream
}

func newRig(t *testing.T, o agentphonetest.Options) *rig {
	t.Helper()
	env := journaltest.Start(t, nil)
	if o.Heartbeat == 0 {
		o.Heartbeat = heartbeat
	}
	srv := agentphonetest.Start(t, o)
	js, err := jetstream.New(env.Conn)
	if err != nil {
		t.Fatal(err)
	}
	return &rig{env: env, srv: srv, js: js}
}

func testConfig() Config {
	return Config{MaxStreams: 10, Heartbeat: heartbeat, RetryMin: 10 * time.Millisecond, RetryMax: 100 * time.Millisecond,
		MaxFailures: 10, ClaimTTL: 3 * time.Second}
}

// instance is one source as a connector process runs it: its own guard
// (an empty cache, as after a restart) and metrics.
type instance struct {
	*Source
	api   *agentphoneapi.Client
	guard *dedupe.Guard
	reg   *prometheus.Registry
}

// start starts a source of the rig's journal; it is closed when the test
// ends, if the test did not close it.
func (r *rig) start(t *testing.T, cfg Config, key string, set Settings) *instance {
	t.Helper()
	in := r.instance(t, cfg, key, set)
	if err := in.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { in.close(t) })
	return in
}

func (r *rig) instance(t *testing.T, cfg Config, key string, set Settings) *instance {
	t.Helper()
	if key == "" {
		key = r.srv.APIKey()
	}
	api, err := agentphoneapi.New(agentphoneapi.Config{URL: r.srv.URL(), Key: agentphoneapi.Key(key), Timeout: 5 * time.Second, MaxRetries: 2},
		agentphoneapi.Settings{Backoff: connector.Backoff{Min: 10 * time.Millisecond, Max: 50 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	guard, err := dedupe.New(r.env.Journal, r.env.Config.DedupeWindow, dedupe.Config{CacheSize: 1000}, dedupe.Settings{Registerer: reg})
	if err != nil {
		t.Fatal(err)
	}
	set.Registerer, set.Logger = reg, journaltest.Discard()
	if testing.Verbose() {
		set.Logger = slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug})).With("replica", set.ReplicaID)
	}
	if set.ReplicaID == "" {
		set.ReplicaID = t.Name()
	}
	s, err := New(cfg, Deps{API: api, Journal: guard, JetStream: r.js, Stream: r.env.Config.Stream,
		SubjectPrefix: r.env.Config.SubjectPrefix, Replicas: 1}, set)
	if err != nil {
		t.Fatal(err)
	}
	return &instance{Source: s, api: api, guard: guard, reg: reg}
}

func (in *instance) close(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := in.Close(ctx); err != nil {
		t.Error(err)
	}
	in.api.CloseIdleConnections()
}

// count returns the value of a counter of the instance's registry.
func (in *instance) count(name string, labels ...string) float64 {
	var c *prometheus.CounterVec
	switch name {
	case "connects":
		c = in.m.connects
	case "stops":
		c = in.m.stops
	case "discovered":
		c = in.m.discovered
	}
	return testutil.ToFloat64(c.WithLabelValues(labels...))
}

// journaled sums connector_events_total of this source's events with the
// given outcome (journaled, duplicate, failed).
func (in *instance) journaled(outcome string) float64 {
	mfs, _ := in.reg.Gather()
	sum := 0.0
	for _, mf := range mfs {
		if mf.GetName() != "connector_events_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["source"] == SourceName && labels["outcome"] == outcome {
				sum += m.GetCounter().GetValue()
			}
		}
	}
	return sum
}

// waitFor polls cond until it holds, failing the test after 20 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		<-tick.C
	}
}

// journaledTurns returns the call's transcript.turn events in the journal,
// failing the test if an event ID is there twice.
func (r *rig) journaledTurns(t *testing.T, callID string) []connector.TranscriptTurn {
	t.Helper()
	var out []connector.TranscriptTurn
	seen := map[string]bool{}
	for _, st := range r.env.Events() {
		e := st.Event
		if e.Kind().Name != connector.EventTranscriptTurn || e.CallID != callID {
			continue
		}
		if seen[e.ID] {
			t.Fatalf("turn %s journaled twice", e.ID)
		}
		seen[e.ID] = true
		var tt connector.TranscriptTurn
		if err := json.Unmarshal(e.Data, &tt); err != nil || e.ID != connector.TurnEventID(callID, tt.Position) {
			t.Fatalf("event %s: data %s (%v)", e.ID, e.Data, err)
		}
		out = append(out, tt)
	}
	return out
}

// waitTurns waits until the call's first n turns are journaled.
func (r *rig) waitTurns(t *testing.T, callID string, n int) {
	t.Helper()
	waitFor(t, "turns journaled", func() bool { return len(r.journaledTurns(t, callID)) >= n })
}

// checkTranscript fails unless the journal holds each turn of the call
// exactly once, in positions 0…n-1, with the server's roles and contents.
func (r *rig) checkTranscript(t *testing.T, callID string) {
	t.Helper()
	call, ok := r.srv.Call(callID)
	if !ok {
		t.Fatalf("no call %s", callID)
	}
	got := r.journaledTurns(t, callID)
	if len(got) != len(call.Turns) {
		t.Fatalf("%d turns journaled, the call has %d", len(got), len(call.Turns))
	}
	for _, tt := range got {
		want := call.Turns[tt.Position]
		if tt.Role != want.Role || tt.Content != want.Content || tt.CreatedAt == nil || !tt.CreatedAt.Equal(want.At.Truncate(time.Second)) {
			t.Errorf("turn %d = %+v, want %+v", tt.Position, tt, want)
		}
	}
}

// addTurns adds n turns to a live call, alternating roles.
func addTurns(t *testing.T, srv *agentphonetest.Server, callID string, n int) {
	t.Helper()
	for i := range n {
		role := [...]string{"user", "agent"}[i%2]
		if _, err := srv.AddTurn(callID, agentphonetest.Turn{Role: role, Content: role + " says " + time.Now().Format(time.RFC3339Nano)}); err != nil {
			t.Fatal(err)
		}
	}
}

func startCall(t *testing.T, srv *agentphonetest.Server, turns int) agentphonetest.Call {
	t.Helper()
	c, err := srv.StartCall(agentphonetest.Call{})
	if err != nil {
		t.Fatal(err)
	}
	addTurns(t, srv, c.ID, turns)
	return c
}

func endCall(t *testing.T, srv *agentphonetest.Server, callID string) {
	t.Helper()
	if _, err := srv.EndCall(callID, agentphonetest.CallEnd{}); err != nil {
		t.Fatal(err)
	}
}

// noLeaks returns a check, to call after closing everything the test
// started, that fails the test when goroutines started since noLeaks are
// still running (after a grace period).
func noLeaks(t *testing.T) func() {
	ignore := goleak.IgnoreCurrent()
	return func() {
		t.Helper()
		goleak.VerifyNone(t, ignore)
	}
}
