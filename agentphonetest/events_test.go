package agentphonetest

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func ts(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

// The builders reproduce the provider's examples (testdata, from SPEC.md)
// byte for byte when given the same values.
func TestEventBuildersMatchFixtures(t *testing.T) {
	ok := true
	smsHistory := []Message{{ID: "msg_2b90aa", Body: "Your appointment is at 2pm tomorrow.", Direction: "outbound", Channel: "sms", At: ts("2026-03-02T16:00:00Z")}}
	sms := Message{ID: "msg_2b91c0", ConversationID: "conv_9f3a11", AgentID: "agt_7Qm2x", NumberID: "num_41c8d2", Channel: "sms",
		From: "+14155550123", To: "+14155550999", Body: "Can I move my appointment to 3pm?", Direction: "inbound", At: ts("2026-03-02T17:04:10Z")}
	mms := Message{ID: "msg_3c02", ConversationID: "conv_9f3a11", AgentID: "agt_7Qm2x", NumberID: "num_41c8d2", Channel: "mms",
		From: "+14155550123", To: "+14155550999", Direction: "inbound", At: ts("2026-03-02T17:09:59Z"),
		Contact:   &Contact{ID: "ct_1", Name: "Ana Ruiz", PhoneNumber: "+14155550123"},
		MediaURLs: []string{"https://media.example/a.jpg", "https://media.example/b.jpg"}}
	group := Message{ID: "msg_77aa", ConversationID: "conv_grp_51", AgentID: "agt_7Qm2x", NumberID: "num_41c8d2", Channel: "imessage",
		From: "+14155550123", To: "grp_8c1d", Body: "Does Friday work for everyone? ✅", Direction: "inbound", At: ts("2026-03-02T18:00:01Z"),
		SenderIdentifier: "+14155550123",
		Group:            &Group{ID: "grp_8c1d", Name: "Offsite", Participants: []Participant{{"+14155550123", "Ana"}, {"bo@example.com", ""}}}}
	call := Call{ID: "call_c0ffee", AgentID: "agt_7Qm2x", NumberID: "num_41c8d2", From: "+14155550123", To: "+14155550999",
		Direction: "inbound", Status: StatusCompleted, StartedAt: ts("2026-03-02T14:00:00Z"), EndedAt: ts("2026-03-02T14:05:30Z"),
		DisconnectionReason: "user_hangup", Summary: "Caller asked about order status; told it shipped.", UserSentiment: "Neutral",
		CallSuccessful: &ok, Turns: []Turn{
			{Role: "agent", Content: "Hello, how can I help?", At: ts("2026-03-02T14:00:00Z")},
			{Role: "user", Content: "Where is my order?", At: ts("2026-03-02T14:00:05Z"), Confidence: 0.95},
			{Role: "agent", Content: "It shipped this morning.", At: ts("2026-03-02T14:00:09Z")},
		}}
	voice := call
	voice.Turns = []Turn{call.Turns[0], {Role: "user", Content: "I need help with my order", At: ts("2026-03-02T14:00:05Z"), Confidence: 0.95}}
	failed := Call{ID: "call_0b0e", AgentID: "agt_7Qm2x", NumberID: "num_41c8d2", From: "+14155550999", To: "+12125550100",
		Direction: "outbound", Status: StatusFailed, StartedAt: ts("2026-03-03T09:00:00Z"), EndedAt: ts("2026-03-03T09:00:11Z")}
	reaction := Reaction{ConversationID: "conv_def", NumberID: "num_41c8d2", AgentID: "agt_7Qm2x", Channel: "imessage", Type: "love",
		From: "+14155550123", Direction: "inbound", MessageID: "msg_2b90aa", MessageBody: "Your appointment is at 2pm tomorrow.",
		At: ts("2026-03-02T18:00:59Z")}

	tests := []struct {
		file string
		ev   Event
	}{
		{"sms_inbound.json", MessageEvent(sms, json.RawMessage(`{"customerId": "c_123", "stage": "rescheduling"}`), smsHistory)},
		{"mms_with_media.json", MessageEvent(mms, nil, nil)},
		{"imessage_group.json", MessageEvent(group, nil, nil)},
		{"voice_turn.json", VoiceTurnEvent(voice, 1, 10)},
		{"call_ended.json", CallEndedEvent(call)},
		{"call_ended_outbound_failed.json", CallEndedEvent(failed)},
		{"reaction.json", ReactionEvent(reaction)},
		{"unknown_event.json", RawEvent("agent.voicemail_left", "voice", "agt_7Qm2x", ts("2026-03-04T10:00:00Z"),
			json.RawMessage(`{"callId":"call_vm1","audioUrl":"https://media.example/vm1.wav","durationSeconds":21}`))},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			want, err := os.ReadFile(filepath.Join("..", "testdata", "agentphone", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			if string(tt.ev.Body) != string(want) {
				t.Errorf("body differs from the fixture\n got: %s\nwant: %s", tt.ev.Body, want)
			}
		})
	}
}

func TestEventMetadata(t *testing.T) {
	m := Message{ID: "msg_1", AgentID: "agt_1", Channel: "whatsapp", At: ts("2026-03-02T10:00:00Z")}
	ev := MessageEvent(m, json.RawMessage(`not json`), nil)
	if ev.Name != EventMessage || ev.Channel != "whatsapp" || ev.AgentID != "agt_1" || ev.MessageID != "msg_1" {
		t.Errorf("event = %+v", ev)
	}
	if !ev.At.Equal(ts("2026-03-02T10:00:01Z")) {
		t.Errorf("At = %v, want a second after receipt", ev.At)
	}
	var body struct {
		ConversationState json.RawMessage `json:"conversationState"`
		RecentHistory     []any           `json:"recentHistory"`
	}
	if err := json.Unmarshal(ev.Body, &body); err != nil {
		t.Fatal(err)
	}
	if string(body.ConversationState) != "null" || body.RecentHistory == nil {
		t.Errorf("state %s, history %v: want null state for invalid JSON and [] history", body.ConversationState, body.RecentHistory)
	}
}
