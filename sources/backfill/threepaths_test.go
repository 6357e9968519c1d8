package backfill

import (
	"context"
	"testing"
	"time"

	connector "github.com/agentphone-connector/connector"
	"github.com/agentphone-connector/connector/agentphonetest"
	"github.com/agentphone-connector/connector/journal/journaltest"
	"github.com/agentphone-connector/connector/sources/agentphoneapi"
	"github.com/agentphone-connector/connector/sources/transcript"
)

// The same calls reach the connector by webhook, by transcript stream and
// by backfill: downstream there is one record per call and one per turn.
func TestWebhookStreamAndBackfillGiveOneRecordPerCall(t *testing.T) {
	r := newRig(t, agentphonetest.Options{Account: account(8), Heartbeat: 100 * time.Millisecond,
		Stream: agentphonetest.StreamFaults{Connections: 1, DropAfter: 3}})
	finished := r.finished()
	r.deliverCallEnded(t, finished[:4]...)

	src := r.transcriptSource(t, true)
	live, err := r.srv.StartCall(agentphonetest.Call{})
	if err != nil {
		t.Fatal(err)
	}
	if err := src.Follow(t.Context(), transcript.Call{ID: live.ID, AgentID: live.AgentID}); err != nil {
		t.Fatal(err)
	}
	for i, role := range []string{"agent", "user", "agent", "user", "agent"} {
		if _, err := r.srv.AddTurn(live.ID, agentphonetest.Turn{Role: role, Content: role + " line " + string(rune('a'+i))}); err != nil {
			t.Fatal(err)
		}
	}
	ended, err := r.srv.EndCall(live.ID, agentphonetest.CallEnd{Summary: "asked about an order"})
	if err != nil {
		t.Fatal(err)
	}
	r.deliverCallEnded(t, ended)
	waitFor(t, "the stream to end", func() bool {
		rec := r.records(t)[live.ID]
		return len(src.Following()) == 0 && rec != nil && len(rec.turns) == 5
	})

	cfg := testConfig()
	rep, err := r.backfill(t, cfg, nil).Run(t.Context(), Options{Since: 72 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	all := append(finished, ended)
	// The live call was followed to its end and its webhook journaled: its
	// transcript is not read again.
	if rep.Calls.Found != len(all) || rep.Calls.Present != 5 || rep.Calls.Added != len(all)-5 || rep.Turns.Present != 0 {
		t.Fatalf("backfill: calls %+v turns %+v", rep.Calls, rep.Turns)
	}
	r.checkOneRecordPerCall(t, all)
	rec := r.records(t)[live.ID]
	if rec.callEnded[0].Source != "agentphone/webhook/project" {
		t.Errorf("the live call's record came from %s, want its webhook (it carries the summary)", rec.callEnded[0].Source)
	}
	for _, st := range r.env.Events() {
		if st.Event.CallID == live.ID && st.Event.Kind().Name == connector.EventTranscriptTurn && st.Event.Source != transcript.SourceName {
			t.Errorf("turn %s came from %s", st.Event.ID, st.Event.Source)
		}
	}
}

// transcriptSource starts a transcript source on the rig; with mark it
// records the calls it follows to their end, so backfill skips them.
func (r *rig) transcriptSource(t *testing.T, mark bool) *transcript.Source {
	t.Helper()
	cfg := transcript.Config{MaxStreams: 4, Heartbeat: 100 * time.Millisecond, RetryMin: 10 * time.Millisecond,
		RetryMax: 100 * time.Millisecond, MaxFailures: 5, ClaimTTL: 5 * time.Second}
	d := transcript.Deps{API: r.api(t, agentphoneapi.Settings{}), Journal: r.chain(t), JetStream: r.js,
		Stream: r.env.Config.Stream, SubjectPrefix: r.env.Config.SubjectPrefix, Replicas: 1}
	if mark {
		d.Marks = r.marks
	}
	s, err := transcript.New(cfg, d,
		transcript.Settings{Logger: journaltest.Discard(), ReplicaID: "replica-test"})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := s.Close(ctx); err != nil {
			t.Error(err)
		}
	})
	return s
}

// waitFor polls cond until it holds, failing the test after 20 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.After(20 * time.Second)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-deadline:
			t.Fatalf("timed out waiting for %s", what)
		case <-tick.C:
		}
	}
}

// The older row shape of the REST transcript numbers turns as the stream
// does: backfill finds every streamed turn there, and adds none.
func TestRowShapedTranscriptMatchesTheStream(t *testing.T) {
	r := newRig(t, agentphonetest.Options{Heartbeat: 100 * time.Millisecond, Quirks: agentphonetest.Quirks{TranscriptRows: true}})
	src := r.transcriptSource(t, false)
	call, err := r.srv.StartCall(agentphonetest.Call{})
	if err != nil {
		t.Fatal(err)
	}
	if err := src.Follow(t.Context(), transcript.Call{ID: call.ID}); err != nil {
		t.Fatal(err)
	}
	roles := []string{"agent", "user", "agent", "user", "user", "agent", "agent"}
	for i, role := range roles {
		if _, err := r.srv.AddTurn(call.ID, agentphonetest.Turn{Role: role, Content: role + " line " + string(rune('a'+i)), Confidence: 0.9}); err != nil {
			t.Fatal(err)
		}
	}
	ended, err := r.srv.EndCall(call.ID, agentphonetest.CallEnd{})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the stream to end", func() bool {
		rec := r.records(t)[call.ID]
		return len(src.Following()) == 0 && rec != nil && len(rec.turns) == len(roles)
	})
	rep, err := r.backfill(t, testConfig(), nil).Run(t.Context(), Options{Since: 72 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Turns != (Counts{Found: len(roles), Present: len(roles)}) {
		t.Fatalf("turns %+v, want every one found present", rep.Turns)
	}
	r.checkOneRecordPerCall(t, []agentphonetest.Call{ended})
}
