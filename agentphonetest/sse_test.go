package agentphonetest

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"
	"time"
)

// finishedCall returns a completed call of at least n turns from a
// generated account.
func finishedCall(t *testing.T, acct *Account, n int) Call {
	t.Helper()
	for _, c := range acct.Calls {
		if c.Status == StatusCompleted && len(c.Turns) >= n {
			return c
		}
	}
	t.Fatalf("no completed call with %d turns", n)
	return Call{}
}

func TestStreamFinishedCall(t *testing.T) {
	ctx := testCtx(t)
	acct := Generate(AccountOptions{Seed: 4, Calls: 10})
	call := finishedCall(t, acct, 5)
	s, err := NewServer(Options{Account: acct})
	if err != nil {
		t.Fatal(err)
	}
	defer closeServer(t, s)
	resp, sr := openStream(ctx, t, s, call.ID)
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Errorf("Content-Type %q", ct)
	}
	var hello connectedData
	if err := json.Unmarshal([]byte(sr.expect(t, "connected").Data), &hello); err != nil || hello.CallID != call.ID {
		t.Errorf("connected data %+v, %v", hello, err)
	}
	for i, want := range call.Turns {
		if got := turnData(t, sr.expect(t, "turn")); got != turnOf(want) {
			t.Errorf("turn %d = %+v, want %+v", i, got, turnOf(want))
		}
	}
	if m := sr.expect(t, "ended"); m.Data != `{"status":"completed"}` {
		t.Errorf("ended data %s", m.Data)
	}
	if _, err := sr.next(); err != io.EOF {
		t.Errorf("after ended: %v, want the stream closed", err)
	}
}

// A test drives a live call turn by turn; every new client gets the turns so
// far replayed, then the live ones, heartbeats while nothing happens, and
// ended when the call ends.
func TestStreamLiveCall(t *testing.T) {
	check := noLeaks(t)
	ctx := testCtx(t)
	clock := NewManualClock(time.Date(2026, 3, 2, 14, 0, 0, 0, time.UTC))
	s, err := NewServer(Options{Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	call, err := s.StartCall(Call{Turns: []Turn{{Role: "agent", Content: "Hello, how can I help?", At: clock.Now()}}})
	if err != nil {
		t.Fatal(err)
	}
	_, first := openStream(ctx, t, s, call.ID)
	first.expect(t, "connected")
	first.expect(t, "turn")

	clock.Advance(5 * time.Second)
	if _, err := s.AddTurn(call.ID, Turn{Role: "user", Content: "Where is my order?", Confidence: 0.9}); err != nil {
		t.Fatal(err)
	}
	if got := turnData(t, first.expect(t, "turn")); got.Content != "Where is my order?" || got.CreatedAt != "2026-03-02T14:00:05Z" {
		t.Errorf("live turn %+v", got)
	}
	if err := clock.WaitTimers(ctx, 1); err != nil {
		t.Fatal(err)
	}
	clock.Advance(15 * time.Second)
	first.expect(t, ": heartbeat")

	_, second := openStream(ctx, t, s, call.ID)
	second.expect(t, "connected")
	for _, want := range []string{"Hello, how can I help?", "Where is my order?"} {
		if got := turnData(t, second.expect(t, "turn")); got.Content != want {
			t.Errorf("replayed %q, want %q", got.Content, want)
		}
	}
	if _, err := s.AddTurn(call.ID, Turn{Role: "agent", Content: "It shipped this morning."}); err != nil {
		t.Fatal(err)
	}
	for _, sr := range []*sseReader{first, second} {
		sr.expect(t, "turn")
	}
	if _, err := s.EndCall(call.ID, CallEnd{DisconnectionReason: "user_hangup"}); err != nil {
		t.Fatal(err)
	}
	for _, sr := range []*sseReader{first, second} {
		sr.expect(t, "ended")
		if _, err := sr.next(); err != io.EOF {
			t.Errorf("after ended: %v", err)
		}
	}
	if _, err := s.AddTurn(call.ID, Turn{Role: "user", Content: "hello?"}); !errors.Is(err, ErrCallEnded) {
		t.Errorf("turn after the end: %v, want ErrCallEnded", err)
	}
	closeServer(t, s)
	check()
}

func TestStreamDrop(t *testing.T) {
	ctx := testCtx(t)
	acct := Generate(AccountOptions{Seed: 4, Calls: 10})
	call := finishedCall(t, acct, 4)
	s, err := NewServer(Options{Account: acct, Stream: StreamFaults{Connections: 1, DropAfter: 3}})
	if err != nil {
		t.Fatal(err)
	}
	defer closeServer(t, s)
	_, sr := openStream(ctx, t, s, call.ID)
	sr.expect(t, "connected")
	sr.expect(t, "turn")
	sr.expect(t, "turn")
	if m, err := sr.next(); err == nil || err == io.EOF {
		t.Fatalf("after the drop: %+v, %v; want the connection cut", m, err)
	}
	_, again := openStream(ctx, t, s, call.ID) // only the first connection misbehaves
	again.expect(t, "connected")
	for range call.Turns {
		again.expect(t, "turn")
	}
	again.expect(t, "ended")
}

func TestStreamStall(t *testing.T) {
	ctx := testCtx(t)
	s, err := NewServer(Options{Heartbeat: 5 * time.Millisecond, Stream: StreamFaults{Connections: 1, StallAfter: 2}})
	if err != nil {
		t.Fatal(err)
	}
	defer closeServer(t, s)
	call, err := s.StartCall(Call{Turns: []Turn{{Role: "agent", Content: "Hi"}, {Role: "user", Content: "Hello"}}})
	if err != nil {
		t.Fatal(err)
	}
	short, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
	defer cancel()
	_, stalled := openStream(short, t, s, call.ID)
	stalled.expect(t, "connected")
	stalled.expect(t, "turn")
	if m, err := stalled.next(); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("a stalled stream sent %+v (%v)", m, err)
	}
	_, healthy := openStream(ctx, t, s, call.ID)
	healthy.expect(t, "connected")
	healthy.expect(t, "turn")
	healthy.expect(t, "turn")
	healthy.expect(t, ": heartbeat")
}

func TestStreamFraming(t *testing.T) {
	acct := Generate(AccountOptions{Seed: 4, Calls: 10})
	call := finishedCall(t, acct, 3)
	tests := []struct {
		name  string
		f     StreamFaults
		check func(t *testing.T, raw string, turns []sseMessage)
	}{
		{"LF", StreamFaults{}, func(t *testing.T, raw string, _ []sseMessage) {
			if strings.Contains(raw, "\r") {
				t.Error("CR in an LF stream")
			}
		}},
		{"CRLF", StreamFaults{CRLF: true}, func(t *testing.T, raw string, _ []sseMessage) {
			if strings.Count(raw, "\n") != strings.Count(raw, "\r\n") || !strings.HasSuffix(raw, "\r\n\r\n") {
				t.Errorf("a line does not end in CRLF: %q", raw)
			}
		}},
		{"multi-line data", StreamFaults{MultiLineData: true}, func(t *testing.T, raw string, turns []sseMessage) {
			for _, m := range turns {
				if strings.Count(m.Data, "\n") < 3 {
					t.Errorf("turn data on one line: %q", m.Data)
				}
			}
		}},
		{"CRLF and multi-line data", StreamFaults{CRLF: true, MultiLineData: true}, func(t *testing.T, raw string, turns []sseMessage) {
			if !strings.Contains(raw, "\r\ndata:   \"role\"") {
				t.Errorf("no indented data line ending in CRLF: %q", raw)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := testCtx(t)
			s, err := NewServer(Options{Account: Generate(AccountOptions{Seed: 4, Calls: 10}), Stream: tt.f})
			if err != nil {
				t.Fatal(err)
			}
			defer closeServer(t, s)
			_, sr := openStream(ctx, t, s, call.ID)
			sr.expect(t, "connected")
			var turns []sseMessage
			for i, want := range call.Turns {
				m := sr.expect(t, "turn")
				if got := turnData(t, m); got != turnOf(want) {
					t.Errorf("turn %d = %+v, want %+v", i, got, turnOf(want))
				}
				turns = append(turns, m)
			}
			sr.expect(t, "ended")
			if _, err := sr.next(); err != io.EOF {
				t.Fatalf("after ended: %v", err)
			}
			tt.check(t, string(sr.raw), turns)
		})
	}
}
