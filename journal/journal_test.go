package journal_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	connector "github.com/agentphone-connector/connector"
	"github.com/agentphone-connector/connector/journal"
	"github.com/agentphone-connector/connector/journal/journaltest"
)

func event(id string) *connector.Event {
	return &connector.Event{ID: id, Source: "test", Type: "ai.agentphone.agent.message", Channel: "sms", AgentID: "agt_1",
		Time: time.Unix(1772471051, 0), Status: connector.StatusOK, Raw: []byte(`{"event":"agent.message"}`)}
}

func TestAppendAndDuplicate(t *testing.T) {
	env := journaltest.Start(t, nil)
	ctx := context.Background()
	first, err := env.Journal.Append(ctx, event("a"))
	if err != nil || first.Duplicate || first.Seq != 1 {
		t.Fatalf("first: %+v %v", first, err)
	}
	again, err := env.Journal.Append(ctx, event("a"))
	if err != nil || !again.Duplicate || again.Seq != 1 {
		t.Fatalf("again: %+v %v", again, err)
	}
	got := env.Events()
	if len(got) != 1 || got[0].Subject != "agentphone.message._.sms.agt_1" || got[0].MsgID != "a" {
		t.Fatalf("journal: %+v", got)
	}
}

func TestOpenUpdatesTheStream(t *testing.T) {
	env := journaltest.Start(t, nil)
	cfg := env.Config
	cfg.MaxAge = 240 * time.Hour
	if _, err := journal.Open(context.Background(), env.Conn, cfg, journal.Settings{Logger: journaltest.Discard()}); err != nil {
		t.Fatal(err)
	}
	js, _ := jetstream.New(env.Conn)
	s, err := js.Stream(context.Background(), cfg.Stream)
	if err != nil {
		t.Fatal(err)
	}
	c := s.CachedInfo().Config
	if c.MaxAge != 240*time.Hour || c.Duplicates != 72*time.Hour || c.Discard != jetstream.DiscardNew {
		t.Fatalf("stream config %+v", c)
	}
}

// A full stream refuses new events (they are retried by the provider) and
// says so on /readyz, rather than dropping old ones.
func TestFullStreamRefusesNewEvents(t *testing.T) {
	cfg := journaltest.Config()
	cfg.MaxBytes = 2048
	env := journaltest.Start(t, &cfg)
	ctx := context.Background()
	var err error
	for i := 0; err == nil && i < 100; i++ {
		_, err = env.Journal.Append(ctx, event(strings.Repeat("x", 10)+string(rune('a'+i%26))+time.Now().String()))
	}
	if !errors.Is(err, connector.ErrUnavailable) || !errors.Is(err, journal.ErrFull) {
		t.Fatalf("append to a full stream: %v", err)
	}
	if err := env.Journal.Ready(ctx); !errors.Is(err, journal.ErrFull) {
		t.Fatalf("ready: %v", err)
	}
	if got := env.Events(); got[0].Event.ID[:10] != "xxxxxxxxxx" || got[0].Seq != 1 {
		t.Fatalf("the oldest event was dropped: %+v", got[0])
	}
}

func TestConfigValidate(t *testing.T) {
	good := journaltest.Config()
	if err := good.Validate(); err != nil {
		t.Fatal(err)
	}
	bad := journal.Config{Stream: "a.b", SubjectPrefix: "x.>", Replicas: 2, MaxAge: time.Hour, MaxBytes: 0, DedupeWindow: 72 * time.Hour}
	err := bad.Validate()
	for _, want := range []string{"CONNECTOR_JOURNAL_STREAM", "CONNECTOR_JOURNAL_SUBJECT_PREFIX", "CONNECTOR_JOURNAL_REPLICAS",
		"CONNECTOR_JOURNAL_MAX_AGE", "CONNECTOR_JOURNAL_MAX_BYTES", "CONNECTOR_JOURNAL_APPEND_TIMEOUT"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("not reported: %s (%v)", want, err)
		}
	}
}

func TestTailReadsInOrderAndStops(t *testing.T) {
	env := journaltest.Start(t, nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	for _, id := range []string{"a", "b", "c"} {
		if _, err := env.Journal.Append(ctx, event(id)); err != nil {
			t.Fatal(err)
		}
	}
	var ids []string
	err := journal.Tail(ctx, env.Conn, "AGENTPHONE", journal.TailOptions{FromStart: true}, func(seq uint64, e *connector.Event) error {
		if ids = append(ids, e.ID); len(ids) == 3 {
			cancel()
		}
		return nil
	})
	if !errors.Is(err, context.Canceled) || strings.Join(ids, "") != "abc" {
		t.Fatalf("tail: %v %v", ids, err)
	}
}

// An agent.call_ended is journaled once per call, whatever its event ID, its
// source or the channel and agent it names: the call is its natural key.
func TestOneCallEndedPerCall(t *testing.T) {
	env := journaltest.Start(t, nil)
	ctx := context.Background()
	call := func(id, agent string) *connector.Event {
		return &connector.Event{ID: id, Source: "test", Type: "ai.agentphone.agent.call_ended", Channel: "voice", AgentID: agent,
			Subject: "call_1", CallID: "call_1", Time: time.Unix(1772471051, 0), Status: connector.StatusOK, Raw: []byte(`{}`)}
	}
	if held, err := env.Journal.Holds(ctx, call("", "")); held || err != nil {
		t.Fatalf("holds the call before any append: %v", err)
	}
	first, err := env.Journal.Append(ctx, call("whd_1", "agt_1"))
	if err != nil || first.Duplicate {
		t.Fatalf("first: %+v %v", first, err)
	}
	for _, tt := range []struct{ name, id, agent string }{
		{"the webhook's retry", "whd_1", "agt_1"},
		{"another delivery of the call", "whd_2", "agt_1"},
		{"backfill's record, without the agent", "call:call_1", ""},
	} {
		res, err := env.Journal.Append(ctx, call(tt.id, tt.agent))
		if err != nil || !res.Duplicate || res.Seq != first.Seq {
			t.Errorf("%s: %+v %v, want a duplicate of seq %d", tt.name, res, err, first.Seq)
		}
	}
	other := call("whd_3", "agt_1")
	other.Subject, other.CallID = "call_2", "call_2"
	if res, err := env.Journal.Append(ctx, other); err != nil || res.Duplicate {
		t.Fatalf("another call: %+v %v", res, err)
	}
	if held, err := env.Journal.Holds(ctx, call("", "")); !held || err != nil {
		t.Fatalf("does not hold the call: %v", err)
	}
	if n := len(env.Events()); n != 2 {
		t.Fatalf("journal holds %d events, want 2", n)
	}
}
