package dedupe

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	connector "github.com/agentphone-connector/connector"
	"github.com/agentphone-connector/connector/journal/journaltest"
)

func callEnded(id, callID string) *connector.Event {
	return &connector.Event{ID: id, Source: "test", Type: connector.TypePrefix + connector.EventCallEnded,
		CallID: callID, Subject: callID, Channel: "voice", Status: connector.StatusOK}
}

// failing fails its next n appends, then hands over to next.
type failing struct {
	next connector.Appender
	n    atomic.Int32
}

func (f *failing) Append(ctx context.Context, e *connector.Event) (connector.Appended, error) {
	if f.n.Add(-1) >= 0 {
		return connector.Appended{}, connector.ErrUnavailable
	}
	return f.next.Append(ctx, e)
}

// A call's agent.call_ended from its webhook and the one backfill builds
// from the REST API are one event in the journal, whichever comes first.
func TestNaturalKeysOneCallAcrossSources(t *testing.T) {
	tests := []struct {
		name  string
		order []*connector.Event
	}{
		{"webhook first", []*connector.Event{callEnded("whd_1", "call_1"), callEnded(connector.CallEventID("call_1"), "call_1")}},
		{"backfill first", []*connector.Event{callEnded(connector.CallEventID("call_1"), "call_1"), callEnded("whd_1", "call_1")}},
		{"two webhooks of one call", []*connector.Event{callEnded("whd_1", "call_1"), callEnded("whd_2", "call_1")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := journaltest.Start(t, nil)
			n := NewNaturalKeys(env.Journal, openKeys(t, env, nil), time.Second)
			first, err := n.Append(t.Context(), tt.order[0])
			if err != nil || first.Duplicate {
				t.Fatalf("first: %+v %v", first, err)
			}
			second, err := n.Append(t.Context(), tt.order[1])
			if err != nil || !second.Duplicate || second.Seq != first.Seq {
				t.Fatalf("second: %+v %v, want a duplicate of seq %d", second, err, first.Seq)
			}
			if got := env.Events(); len(got) != 1 || got[0].Event.ID != tt.order[0].ID {
				t.Fatalf("journal holds %d events", len(got))
			}
		})
	}
}

// A failed append releases the key: the provider's retry (or the next
// backfill) journals the call.
func TestNaturalKeysReleaseOnFailedAppend(t *testing.T) {
	env := journaltest.Start(t, nil)
	keys := openKeys(t, env, nil)
	f := &failing{next: env.Journal}
	f.n.Store(1)
	n := NewNaturalKeys(f, keys, time.Second)
	if _, err := n.Append(t.Context(), callEnded("whd_1", "call_1")); !errors.Is(err, connector.ErrUnavailable) {
		t.Fatalf("failed append: %v", err)
	}
	if ok, _ := keys.Committed(t.Context(), "call:call_1"); ok {
		t.Fatal("a key is committed although nothing was journaled")
	}
	res, err := n.Append(t.Context(), callEnded(connector.CallEventID("call_1"), "call_1"))
	if err != nil || res.Duplicate {
		t.Fatalf("retry: %+v %v", res, err)
	}
	if ok, _ := keys.Committed(t.Context(), "call:call_1"); !ok {
		t.Fatal("the key is not committed after the append")
	}
}

// Kinds without a natural key go straight to the journal: the bucket stays
// empty.
func TestNaturalKeysLeaveOtherKindsAlone(t *testing.T) {
	env := journaltest.Start(t, nil)
	keys := openKeys(t, env, nil)
	n := NewNaturalKeys(env.Journal, keys, time.Second)
	for _, e := range []*connector.Event{event("m1"), event("m2"), {ID: "turn:call_1:0", Type: connector.TypePrefix + connector.EventTranscriptTurn, CallID: "call_1"}} {
		if _, err := n.Append(t.Context(), e); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := keys.kv.Keys(t.Context()); !errors.Is(err, jetstream.ErrNoKeysFound) {
		t.Fatalf("keys in the bucket: %v", err)
	}
	if len(env.Events()) != 3 {
		t.Fatal("events missing from the journal")
	}
}

// An append of a key another append holds waits for its outcome: a
// duplicate when that one is journaled.
func TestNaturalKeysWaitForAppendInFlight(t *testing.T) {
	env := journaltest.Start(t, nil)
	j := &journal{hold: make(chan struct{}), entered: make(chan struct{}, 2)}
	n := NewNaturalKeys(j, openKeys(t, env, nil), 10*time.Second)
	first := make(chan error, 1)
	go func() { _, err := n.Append(context.Background(), callEnded("whd_1", "call_1")); first <- err }()
	<-j.entered
	second := make(chan connector.Appended, 1)
	go func() {
		res, err := n.Append(context.Background(), callEnded(connector.CallEventID("call_1"), "call_1"))
		if err != nil {
			t.Error(err)
		}
		second <- res
	}()
	close(j.hold)
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	if res := <-second; !res.Duplicate || j.calls.Load() != 1 {
		t.Fatalf("second: %+v after %d appends; want a duplicate and one append", res, j.calls.Load())
	}
}

// A replica that crashed between reserve and append leaves a reservation;
// after the timeout the call is journaled by the next source, not lost.
func TestNaturalKeysTakeOverAfterCrash(t *testing.T) {
	env := journaltest.Start(t, nil)
	clk := newClock()
	keys := openKeys(t, env, clk.Now)
	if _, err := keys.Reserve(t.Context(), "call:call_1"); err != nil { // and then the crash
		t.Fatal(err)
	}
	n := NewNaturalKeys(env.Journal, keys, 50*time.Millisecond)
	if _, err := n.Append(t.Context(), callEnded("whd_1", "call_1")); !errors.Is(err, connector.ErrUnavailable) {
		t.Fatalf("while the reservation is fresh: %v, want ErrUnavailable (the provider retries)", err)
	}
	clk.Advance(time.Minute)
	if res, err := n.Append(t.Context(), callEnded("whd_1", "call_1")); err != nil || res.Duplicate {
		t.Fatalf("after the timeout: %+v %v", res, err)
	}
	if len(env.Events()) != 1 {
		t.Fatal("the call is not journaled")
	}
}
