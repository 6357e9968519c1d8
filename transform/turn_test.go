package transform

import (
	"testing"
	"time"

	connector "github.com/agentphone-connector/connector"
)

func TestTurns(t *testing.T) {
	meta := TurnMeta{CallID: "call_1", AgentID: "agt_1", Direction: "inbound", Source: "agentphone/transcript", ReceivedAt: received}
	tests := []struct {
		name   string
		raw    string
		status connector.Status
		want   []string // data of each event, position 4 onwards
	}{
		{"turn", `{"role":"agent","content":"Hello","createdAt":"2026-03-02T14:00:01Z"}`, connector.StatusOK,
			[]string{`{"call_id":"call_1","position":4,"role":"agent","content":"Hello","created_at":"2026-03-02T14:00:01Z"}`}},
		{"row with both sides", `{"id":"tr_1","transcript":"Where is it?","response":"On its way.","confidence":0.9,"createdAt":"2026-03-02T14:00:06Z"}`, connector.StatusOK,
			[]string{`{"call_id":"call_1","position":4,"role":"user","content":"Where is it?","created_at":"2026-03-02T14:00:06Z","confidence":0.9}`,
				`{"call_id":"call_1","position":5,"role":"agent","content":"On its way.","created_at":"2026-03-02T14:00:06Z"}`}},
		{"row of the greeting", `{"id":"tr_0","transcript":"","response":"Hi","confidence":null,"createdAt":"2026-03-02T14:00:00Z"}`, connector.StatusOK,
			[]string{`{"call_id":"call_1","position":4,"role":"agent","content":"Hi","created_at":"2026-03-02T14:00:00Z"}`}},
		{"row the agent has not answered", `{"id":"tr_2","transcript":"Hello?","response":null,"confidence":0.5}`, connector.StatusOK,
			[]string{`{"call_id":"call_1","position":4,"role":"user","content":"Hello?","confidence":0.5}`}},
		{"empty object", `{}`, connector.StatusInvalidData, []string{`{}`}},
		{"not an object", `"hello"`, connector.StatusInvalidData, []string{`"hello"`}},
		{"not JSON", `{"role":`, connector.StatusInvalidData, []string{``}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			events := Turns(meta, 4, []byte(tt.raw))
			if len(events) != len(tt.want) {
				t.Fatalf("%d events, want %d", len(events), len(tt.want))
			}
			for i, e := range events {
				if e.ID != connector.TurnEventID("call_1", 4+i) || e.Status != tt.status || string(e.Data) != tt.want[i] {
					t.Errorf("event %d: id %s status %s data %s", i, e.ID, e.Status, e.Data)
				}
				if e.SubjectIn("agentphone") != "agentphone.transcript_turn.call_1.voice.agt_1" || e.Subject != "call_1" || string(e.Raw) != tt.raw {
					t.Errorf("event %d: subject %s key %s raw %s", i, e.SubjectIn("agentphone"), e.Subject, e.Raw)
				}
				if (tt.status == connector.StatusOK) != (e.DataSchema != "") {
					t.Errorf("event %d: schema %q with status %s", i, e.DataSchema, e.Status)
				}
			}
		})
	}
}

func TestTurnTime(t *testing.T) {
	meta := TurnMeta{CallID: "c", ReceivedAt: received}
	if e := Turns(meta, 0, []byte(`{"role":"user","content":"x","createdAt":"2026-03-02T14:00:01Z"}`))[0]; !e.Time.Equal(time.Date(2026, 3, 2, 14, 0, 1, 0, time.UTC)) {
		t.Errorf("time %v, want createdAt", e.Time)
	}
	if e := Turns(meta, 0, []byte(`{"role":"user","content":"x"}`))[0]; !e.Time.Equal(received) {
		t.Errorf("time %v, want the received time", e.Time)
	}
}

func TestInterim(t *testing.T) {
	for raw, want := range map[string]bool{
		`{"role":"user","content":"Wher","status":"partial"}`: true,
		`{"role":"user","content":"Wher","status":"interim"}`: true,
		`{"role":"user","content":"Where","status":"final"}`:  false,
		`{"role":"user","content":"Where"}`:                   false,
		`nope`:                                                false,
	} {
		if Interim([]byte(raw)) != want {
			t.Errorf("Interim(%s) = %v", raw, !want)
		}
	}
}
