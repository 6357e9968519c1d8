package dedupe_test

import (
	"testing"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/agentphone-connector/connector/dedupe"
	"github.com/agentphone-connector/connector/journal/journaltest"
)

func TestMarksSurviveARestart(t *testing.T) {
	env := journaltest.Start(t, nil)
	js, _ := jetstream.New(env.Conn)
	m, err := dedupe.OpenMarks(t.Context(), js, "AGENTPHONE", env.Config.DedupeWindow, 1)
	if err != nil {
		t.Fatal(err)
	}
	keys := []string{"transcript:call_1", "odd key with spaces/and:colons"}
	for _, k := range keys {
		if ok, err := m.Marked(t.Context(), k); ok || err != nil {
			t.Fatalf("%s marked before Mark: %v", k, err)
		}
		if err := m.Mark(t.Context(), k); err != nil {
			t.Fatal(err)
		}
	}
	env.Restart()
	m, err = dedupe.OpenMarks(t.Context(), js, "AGENTPHONE", env.Config.DedupeWindow, 1)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		if ok, err := m.Marked(t.Context(), k); !ok || err != nil {
			t.Fatalf("%s not marked after a restart: %v", k, err)
		}
	}
	if ok, _ := m.Marked(t.Context(), "transcript:call_2"); ok {
		t.Fatal("an unmarked key is marked")
	}
}
