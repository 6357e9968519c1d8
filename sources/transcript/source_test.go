package transcript

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	connector "github.com/agentphone-connector/connector"
	"github.com/agentphone-connector/connector/agentphonetest"
	"github.com/agentphone-connector/connector/transform"
)

// A finished call is streamed as replay then ended, in every framing the
// server uses; each turn is journaled once and the call is done.
func TestFollowFinishedCall(t *testing.T) {
	tests := []struct {
		name   string
		faults agentphonetest.StreamFaults
	}{
		{"LF", agentphonetest.StreamFaults{}},
		{"CRLF", agentphonetest.StreamFaults{CRLF: true}},
		{"multi-line data", agentphonetest.StreamFaults{MultiLineData: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t, agentphonetest.Options{Stream: tt.faults})
			call := startCall(t, r.srv, 5)
			endCall(t, r.srv, call.ID)
			in := r.start(t, testConfig(), "", Settings{})
			if err := in.Follow(t.Context(), Call{ID: call.ID}); err != nil {
				t.Fatal(err)
			}
			waitFor(t, "the call to end", func() bool { return in.count("stops", "ended") == 1 })
			r.checkTranscript(t, call.ID)
			if err := in.Follow(t.Context(), Call{ID: call.ID}); !errors.Is(err, ErrDone) {
				t.Fatalf("following an ended call again: %v, want ErrDone", err)
			}
		})
	}
}

// A stream dropped mid-call, again and again, is reopened; every
// connection replays the call, and still each turn is journaled once.
func TestDroppedStreamYieldsEachTurnOnce(t *testing.T) {
	r := newRig(t, agentphonetest.Options{Stream: agentphonetest.StreamFaults{Connections: 3, DropAfter: 4}})
	call := startCall(t, r.srv, 2)
	in := r.start(t, testConfig(), "", Settings{})
	if err := in.Follow(t.Context(), Call{ID: call.ID}); err != nil {
		t.Fatal(err)
	}
	for n := 2; n <= 8; n += 2 {
		r.waitTurns(t, call.ID, n)
		addTurns(t, r.srv, call.ID, 2)
	}
	endCall(t, r.srv, call.ID)
	waitFor(t, "the call to end", func() bool { return in.count("stops", "ended") == 1 })
	r.checkTranscript(t, call.ID)
	if in.count("connects", "dropped") != 3 {
		t.Errorf("%v connections dropped, want 3", in.count("connects", "dropped"))
	}
	if in.journaled("duplicate") == 0 {
		t.Error("no replayed turn was counted as a duplicate")
	}
}

// A connection that goes silent (no turn, no heartbeat) is given up after
// three heartbeats and reopened.
func TestStalledStreamReconnects(t *testing.T) {
	r := newRig(t, agentphonetest.Options{Stream: agentphonetest.StreamFaults{Connections: 1, StallAfter: 2}})
	call := startCall(t, r.srv, 3)
	in := r.start(t, testConfig(), "", Settings{})
	if err := in.Follow(t.Context(), Call{ID: call.ID}); err != nil {
		t.Fatal(err)
	}
	r.waitTurns(t, call.ID, 3)
	endCall(t, r.srv, call.ID)
	waitFor(t, "the call to end", func() bool { return in.count("stops", "ended") == 1 })
	r.checkTranscript(t, call.ID)
	if in.count("connects", "stalled") != 1 {
		t.Fatalf("%v stalled connections, want 1", in.count("connects", "stalled"))
	}
}

// A 429 on reconnect waits the server's Retry-After before the next try.
func TestRateLimitedStreamWaitsRetryAfter(t *testing.T) {
	clock := agentphonetest.NewManualClock(time.Date(2026, 3, 2, 14, 0, 0, 0, time.UTC))
	r := newRig(t, agentphonetest.Options{Clock: clock, RateLimit: 1, Stream: agentphonetest.StreamFaults{Connections: 1, DropAfter: 2}})
	call := startCall(t, r.srv, 3)
	endCall(t, r.srv, call.ID)
	var mu sync.Mutex
	var waits []time.Duration
	sleep := func(ctx context.Context, d time.Duration) error {
		mu.Lock()
		waits = append(waits, d)
		mu.Unlock()
		clock.Advance(d) // the server's rate window moves on
		return ctx.Err()
	}
	in := r.start(t, testConfig(), "", Settings{Sleep: sleep})
	if err := in.Follow(t.Context(), Call{ID: call.ID}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the call to end", func() bool { return in.count("stops", "ended") == 1 })
	r.checkTranscript(t, call.ID)
	mu.Lock()
	defer mu.Unlock()
	if !slices.Contains(waits, time.Minute) || in.count("connects", "rate_limited") != 1 {
		t.Fatalf("waits %v, %v rate-limited connections; want one wait of Retry-After (60s)", waits, in.count("connects", "rate_limited"))
	}
}

// 404 and 401 stop that call at once: no retry storm.
func TestRefusedStreamStopsWithoutRetrying(t *testing.T) {
	tests := []struct {
		name, key, call, reason string
	}{
		{"unknown call", "", "call_unknown", "not_found"},
		{"wrong key", "sk_wrong", "", "unauthorized"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t, agentphonetest.Options{})
			if tt.call == "" {
				tt.call = startCall(t, r.srv, 1).ID
			}
			in := r.start(t, testConfig(), tt.key, Settings{})
			if err := in.Follow(t.Context(), Call{ID: tt.call}); err != nil {
				t.Fatal(err)
			}
			waitFor(t, "the stream to stop", func() bool { return in.count("stops", tt.reason) == 1 })
			if n := in.count("connects", tt.reason); n != 1 {
				t.Fatalf("%v connections, want 1", n)
			}
			if len(in.Following()) != 0 {
				t.Fatal("still following")
			}
		})
	}
}

// Voice messages in the journal name live calls: the source follows them
// whichever replica took the webhook in.
func TestVoiceMessagesStartFollowing(t *testing.T) {
	r := newRig(t, agentphonetest.Options{})
	in := r.start(t, testConfig(), "", Settings{})
	call := startCall(t, r.srv, 2)
	now, _ := r.srv.Call(call.ID)
	ev := agentphonetest.VoiceTurnEvent(now, 0, 10)
	e := transform.Normalize(transform.Meta{ID: "whd_voice_1", Source: "agentphone/webhook/project", ReceivedAt: time.Now()}, ev.Body)
	if _, err := r.env.Journal.Append(t.Context(), e); err != nil {
		t.Fatal(err)
	}
	r.waitTurns(t, call.ID, 2)
	if got := in.Following(); !slices.Equal(got, []string{call.ID}) {
		t.Fatalf("following %v", got)
	}
	endCall(t, r.srv, call.ID)
	waitFor(t, "the call to end", func() bool { return in.count("stops", "ended") == 1 })
	r.checkTranscript(t, call.ID)
	for _, st := range r.env.Events() {
		if st.Event.Kind().Name == connector.EventTranscriptTurn && st.Event.AgentID != call.AgentID {
			t.Fatalf("turn %s routed to agent %q, want %q", st.Event.ID, st.Event.AgentID, call.AgentID)
		}
	}
}

func TestCapacity(t *testing.T) {
	r := newRig(t, agentphonetest.Options{})
	cfg := testConfig()
	cfg.MaxStreams = 1
	in := r.start(t, cfg, "", Settings{})
	first, second := startCall(t, r.srv, 1), startCall(t, r.srv, 1)
	if err := in.Follow(t.Context(), Call{ID: first.ID}); err != nil {
		t.Fatal(err)
	}
	if err := in.Follow(t.Context(), Call{ID: first.ID}); err != nil {
		t.Fatalf("following a followed call: %v, want nil", err)
	}
	if err := in.Follow(t.Context(), Call{ID: second.ID}); !errors.Is(err, ErrAtCapacity) {
		t.Fatalf("beyond the limit: %v", err)
	}
}

func TestCloseWithoutStart(t *testing.T) {
	r := newRig(t, agentphonetest.Options{})
	check := noLeaks(t)
	in := r.instance(t, testConfig(), "", Settings{})
	in.close(t)
	in.close(t)
	if err := in.Start(t.Context()); !errors.Is(err, ErrClosed) {
		t.Fatalf("start after close: %v", err)
	}
	if err := in.Follow(t.Context(), Call{ID: "call_1"}); !errors.Is(err, ErrClosed) {
		t.Fatalf("follow after close: %v", err)
	}
	check()
}

// Close ends every follower and releases its claim; nothing is left
// running.
func TestStartThenClose(t *testing.T) {
	r := newRig(t, agentphonetest.Options{})
	call := startCall(t, r.srv, 1)
	// The claims bucket and the durable consumer live on in the server, with
	// goroutines of its own: make them before counting.
	r.start(t, testConfig(), "", Settings{}).close(t)
	check := noLeaks(t)
	cfg := testConfig()
	cfg.PollInterval = time.Second
	in := r.instance(t, cfg, "", Settings{})
	if err := in.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	r.waitTurns(t, call.ID, 1)
	in.close(t)
	if in.count("stops", "closed") != 1 {
		t.Errorf("stops: %v closed", in.count("stops", "closed"))
	}
	check()
	if holder, _, err := in.claims.b.Who(t.Context(), claimKey(call.ID)); err != nil || holder != "" {
		t.Fatalf("the claim outlived Close: held by %q (%v)", holder, err)
	}
}
