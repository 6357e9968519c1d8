package connector_test

import (
	"testing"

	connector "github.com/agentphone-connector/connector"
)

func TestNaturalKey(t *testing.T) {
	tests := []struct {
		name string
		e    connector.Event
		want string
	}{
		{"call_ended is its call", connector.Event{Type: "ai.agentphone.agent.call_ended", CallID: "call_1"}, "call:call_1"},
		{"call_ended without a call ID has none", connector.Event{Type: "ai.agentphone.agent.call_ended"}, ""},
		{"messages have none: they pay no extra round trip", connector.Event{Type: "ai.agentphone.agent.message", CallID: "call_1"}, ""},
		{"turns carry theirs as their ID", connector.Event{Type: "ai.agentphone.transcript.turn", CallID: "call_1"}, ""},
		{"unknown kinds have none", connector.Event{Type: "ai.agentphone.agent.new", CallID: "call_1"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.e.NaturalKey(); got != tt.want {
				t.Fatalf("NaturalKey() = %q, want %q", got, tt.want)
			}
		})
	}
	if got := connector.TurnEventID("call_1", 3); got != "turn:call_1:3" {
		t.Errorf("TurnEventID = %q", got)
	}
	if connector.CallEventID("call_1") != (&connector.Event{Type: "ai.agentphone.agent.call_ended", CallID: "call_1"}).NaturalKey() {
		t.Error("a backfilled call's ID differs from the natural key of the call's webhook")
	}
}

func TestDeliveryFailedIsACatalogueKind(t *testing.T) {
	k := connector.KindOf(connector.TypePrefix + connector.EventDeliveryFailed)
	if k.Name != connector.EventDeliveryFailed || k.Data == nil || k.Token != "delivery_failed" {
		t.Fatalf("kind %+v", k)
	}
	if connector.KindOf("ai.agentphone.agent.other").Name != connector.EventUnknown {
		t.Fatal("unknown types no longer map to the unknown kind")
	}
}
