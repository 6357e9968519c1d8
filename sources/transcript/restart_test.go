package transcript

import (
	"slices"
	"testing"
	"time"

	"github.com/agentphone-connector/connector/agentphonetest"
)

func pollingConfig() Config {
	cfg := testConfig()
	cfg.PollInterval = time.Second
	return cfg
}

// The connector restarts during a live call: the new process (its own
// guard, nothing in memory) finds the call by its poll at start, the
// stream replays the call, and the journal keeps each turn once, the turns
// spoken while nothing followed included.
func TestRestartDuringLiveCallLosesAndDuplicatesNothing(t *testing.T) {
	r := newRig(t, agentphonetest.Options{})
	call := startCall(t, r.srv, 3)
	before := r.start(t, pollingConfig(), "", Settings{ReplicaID: "replica-a"})
	r.waitTurns(t, call.ID, 3)
	before.close(t)

	addTurns(t, r.srv, call.ID, 3) // spoken while the connector is down
	after := r.start(t, pollingConfig(), "", Settings{ReplicaID: "replica-a"})
	r.waitTurns(t, call.ID, 6)
	addTurns(t, r.srv, call.ID, 2)
	endCall(t, r.srv, call.ID)
	waitFor(t, "the call to end", func() bool { return after.count("stops", "ended") == 1 })
	r.checkTranscript(t, call.ID)
	if after.journaled("duplicate") < 3 {
		t.Errorf("%v replayed turns deduplicated after the restart, want at least 3", after.journaled("duplicate"))
	}
}

// A replica that dies without releasing its claim blocks the call only
// until the claim lapses; then another replica's poll takes it over. The
// same replica restarted (same host name) takes its claim back at once.
// Either way nothing is lost.
func TestCrashedReplicasClaim(t *testing.T) {
	tests := []struct {
		name, owner string
		ttl         time.Duration
		waitsForTTL bool
	}{
		{"another replica's claim lapses", "replica-dead", 2 * time.Second, true},
		{"its own claim is taken back", "replica-live", time.Minute, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t, agentphonetest.Options{})
			call := startCall(t, r.srv, 2)
			cfg := pollingConfig()
			cfg.ClaimTTL = tt.ttl
			cl, err := openClaims(t.Context(), r.js, r.env.Config.Stream, cfg.ClaimTTL, 1, tt.owner)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := cl.take(t.Context(), call.ID); err != nil { // …and then it crashed
				t.Fatal(err)
			}
			live := r.start(t, cfg, "", Settings{ReplicaID: "replica-live"})
			waitFor(t, "the call to be followed", func() bool { return slices.Contains(live.Following(), call.ID) })
			if !tt.waitsForTTL && live.count("discovered", "poll", "claimed_elsewhere") != 0 {
				t.Error("its own claim was taken for another replica's")
			}
			addTurns(t, r.srv, call.ID, 2)
			endCall(t, r.srv, call.ID)
			waitFor(t, "the call to end", func() bool { return live.count("stops", "ended") == 1 })
			r.checkTranscript(t, call.ID)
		})
	}
}

// Two replicas poll the same live calls; each call is followed by one of
// them, and the journal holds each turn once.
func TestReplicasFollowEachCallOnce(t *testing.T) {
	r := newRig(t, agentphonetest.Options{})
	var calls []agentphonetest.Call
	for range 4 {
		calls = append(calls, startCall(t, r.srv, 2))
	}
	a := r.start(t, pollingConfig(), "", Settings{ReplicaID: "replica-a"})
	b := r.start(t, pollingConfig(), "", Settings{ReplicaID: "replica-b"})
	waitFor(t, "every call followed", func() bool { return len(a.Following())+len(b.Following()) == len(calls) })
	for _, id := range a.Following() {
		if slices.Contains(b.Following(), id) {
			t.Fatalf("both replicas follow %s", id)
		}
	}
	for _, c := range calls {
		addTurns(t, r.srv, c.ID, 1)
		endCall(t, r.srv, c.ID)
	}
	waitFor(t, "every call to end", func() bool { return a.count("stops", "ended")+b.count("stops", "ended") == float64(len(calls)) })
	for _, c := range calls {
		r.checkTranscript(t, c.ID)
	}
}
