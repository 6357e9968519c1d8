package transform

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	connector "github.com/agentphone-connector/connector"
)

var update = flag.Bool("update", false, "rewrite the golden files")

const fixtureDir = "../testdata/agentphone"

var received = time.Date(2026, 3, 2, 17, 5, 0, 0, time.UTC)

// golden is what a test pins of a normalized event: everything but the raw
// body, which is checked byte for byte separately.
type golden struct {
	Type           string          `json:"type"`
	Subject        string          `json:"subject"`
	Time           time.Time       `json:"time"`
	DataSchema     string          `json:"dataschema"`
	AgentID        string          `json:"agentid"`
	CallID         string          `json:"callid"`
	ConversationID string          `json:"conversationid"`
	Channel        string          `json:"channel"`
	Direction      string          `json:"direction"`
	Status         string          `json:"status"`
	NATSSubject    string          `json:"nats_subject"`
	Data           json.RawMessage `json:"data"`
}

func TestNormalizeFixtures(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(fixtureDir, "*.json"))
	if err != nil || len(files) < 8 {
		t.Fatalf("fixtures: %v %v", files, err)
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".json")
		if name == "vectors" {
			continue
		}
		t.Run(name, func(t *testing.T) {
			raw, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			e := Normalize(Meta{ID: "whd_" + name, Source: "agentphone/webhook/project", ReceivedAt: received}, raw)
			if e.ID != "whd_"+name || !bytes.Equal(e.Raw, raw) || e.ReceivedAt != received {
				t.Fatalf("id %q, received %v, raw kept: %v", e.ID, e.ReceivedAt, bytes.Equal(e.Raw, raw))
			}
			g := golden{Type: e.Type, Subject: e.Subject, Time: e.Time, DataSchema: e.DataSchema, AgentID: e.AgentID,
				CallID: e.CallID, ConversationID: e.ConversationID, Channel: e.Channel, Direction: e.Direction,
				Status: string(e.Status), NATSSubject: e.SubjectIn("agentphone"), Data: e.Data}
			got, err := json.MarshalIndent(g, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join("testdata", "golden", name+".json")
			if *update {
				if err := os.WriteFile(path, append(got, '\n'), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update to create)", err)
			}
			if string(append(got, '\n')) != string(want) {
				t.Errorf("normalized event differs from %s:\n%s", path, got)
			}
		})
	}
}

func TestNormalizeStatuses(t *testing.T) {
	tests := []struct {
		name   string
		body   string
		status connector.Status
		typ    string
		data   string // "" for none
	}{
		{"valid", `{"event":"agent.reaction","data":{"messageId":"m1","reactionType":"like","createdAt":"2026-03-02T18:00:59Z"}}`,
			connector.StatusOK, "ai.agentphone.agent.reaction", `{"reaction_type":"like","message_id":"m1","created_at":"2026-03-02T18:00:59Z"}`},
		{"unknown type keeps data as sent", `{"event":"agent.new_thing","data":{"a": 1}}`,
			connector.StatusUnknownType, "ai.agentphone.agent.new_thing", `{"a": 1}`},
		{"no event name", `{"data":{"a":1}}`, connector.StatusUnknownType, "ai.agentphone.connector.unknown", `{"a":1}`},
		{"unknown type without data", `{"event":"agent.ping"}`, connector.StatusUnknownType, "ai.agentphone.agent.ping", ""},
		{"contact shared", `{"event":"agent.contact_shared","data":{"x":true}}`, connector.StatusUntyped, "ai.agentphone.agent.contact_shared", `{"x":true}`},
		{"data of the wrong type", `{"event":"agent.message","data":"hello"}`, connector.StatusInvalidData, "ai.agentphone.agent.message", `"hello"`},
		{"field of the wrong type", `{"event":"agent.call_ended","data":{"callId":"c1","durationSeconds":"long"}}`,
			connector.StatusInvalidData, "ai.agentphone.agent.call_ended", `{"callId":"c1","durationSeconds":"long"}`},
		{"message without any id", `{"event":"agent.message","data":{"message":"hi"}}`, connector.StatusInvalidData, "ai.agentphone.agent.message", `{"message":"hi"}`},
		{"call without call id", `{"event":"agent.call_ended","data":{}}`, connector.StatusInvalidData, "ai.agentphone.agent.call_ended", `{}`},
		{"null data", `{"event":"agent.reaction","data":null}`, connector.StatusInvalidData, "ai.agentphone.agent.reaction", ""},
		{"truncated", `{"event":"agent.message"`, connector.StatusInvalidJSON, "ai.agentphone.connector.invalid", ""},
		{"array", `[]`, connector.StatusInvalidJSON, "ai.agentphone.connector.invalid", ""},
		{"string", `"agent.message"`, connector.StatusInvalidJSON, "ai.agentphone.connector.invalid", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := Normalize(Meta{ID: "x", ReceivedAt: received}, []byte(tt.body))
			if e.Status != tt.status || e.Type != tt.typ || string(e.Data) != tt.data {
				t.Fatalf("status %s type %s data %s", e.Status, e.Type, e.Data)
			}
			if tt.status != connector.StatusOK && e.DataSchema != "" {
				t.Errorf("untyped data claims schema %q", e.DataSchema)
			}
		})
	}
}

func TestNormalizeFallsBackToReceivedTime(t *testing.T) {
	for _, body := range []string{`{"event":"agent.ping"}`, `{"event":"agent.ping","timestamp":"yesterday"}`, `nope`} {
		if e := Normalize(Meta{ID: "x", ReceivedAt: received}, []byte(body)); !e.Time.Equal(received) {
			t.Errorf("%s: time %v", body, e.Time)
		}
	}
}
