package journal_test

import (
	"context"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	connector "github.com/agentphone-connector/connector"
	"github.com/agentphone-connector/connector/journal"
	"github.com/agentphone-connector/connector/journal/journaltest"
)

// A stream written under the previous subject layout
// (<prefix>.<kind>.<channel>.<agent>.<call>) is recognized when the journal
// opens it, and backfill's lookup still finds the calls it holds; a journal
// that starts on a new stream looks nowhere else.
func TestHoldsFindsCallsUnderThePreviousLayout(t *testing.T) {
	env := journaltest.Start(t, nil)
	ctx := context.Background()
	js, _ := jetstream.New(env.Conn)
	if s, _ := js.Stream(ctx, "AGENTPHONE"); s.CachedInfo().Config.Metadata["agentphone-connector.subject-layout"] != "2" {
		t.Fatalf("a new stream records no layout: %v", s.CachedInfo().Config.Metadata)
	}
	// Make the stream as an earlier connector left it: no layout recorded,
	// one call journaled on its previous subject.
	old := journal.StreamConfig(env.Config)
	old.Metadata = nil
	if _, err := js.UpdateStream(ctx, old); err != nil {
		t.Fatal(err)
	}
	msg := &nats.Msg{Subject: "agentphone.call_ended.voice.agt_1.call_old", Data: []byte("{}"), Header: nats.Header{}}
	msg.Header.Set(jetstream.MsgIDHeader, "whd_old")
	if _, err := js.PublishMsg(ctx, msg); err != nil {
		t.Fatal(err)
	}
	call := func(id string) *connector.Event {
		return &connector.Event{ID: "call:" + id, Type: "ai.agentphone.agent.call_ended", Channel: "voice", AgentID: "agt_1", Subject: id, CallID: id}
	}
	fresh := env.Journal
	if held, err := fresh.Holds(ctx, call("call_old")); held || err != nil {
		t.Fatalf("a journal opened on a new stream looked under the previous layout: %v %v", held, err)
	}

	reopened, err := journal.Open(ctx, env.Conn, env.Config, journal.Settings{Logger: journaltest.Discard()})
	if err != nil {
		t.Fatal(err)
	}
	if held, err := reopened.Holds(ctx, call("call_old")); !held || err != nil {
		t.Fatalf("the call journaled under the previous layout is not found: %v %v", held, err)
	}
	if held, err := reopened.Holds(ctx, call("call_new")); held || err != nil {
		t.Fatalf("a call never journaled is found: %v %v", held, err)
	}
	s, err := js.Stream(ctx, "AGENTPHONE")
	if err != nil {
		t.Fatal(err)
	}
	md := s.CachedInfo().Config.Metadata
	until, err := time.Parse(time.RFC3339, md["agentphone-connector.legacy-subjects-until"])
	if err != nil || md["agentphone-connector.subject-layout"] != "2" || until.Before(time.Now().Add(env.Config.MaxAge-time.Hour)) {
		t.Fatalf("metadata after the upgrade: %v", md)
	}
	// Opening again keeps the date: the events under the previous layout age
	// out when they do, not a full age after each restart.
	if _, err := journal.Open(ctx, env.Conn, env.Config, journal.Settings{Logger: journaltest.Discard()}); err != nil {
		t.Fatal(err)
	}
	s, _ = js.Stream(ctx, "AGENTPHONE")
	if got := s.CachedInfo().Config.Metadata["agentphone-connector.legacy-subjects-until"]; got != md["agentphone-connector.legacy-subjects-until"] {
		t.Fatalf("legacy date moved from %s to %s", md["agentphone-connector.legacy-subjects-until"], got)
	}
}
