package connector_test

import (
	"testing"

	connector "github.com/agentphone-connector/connector"
)

func TestOnlyCallEndedIsOnePerSubject(t *testing.T) {
	for _, k := range connector.Kinds() {
		if k.OnePerSubject != (k.Name == connector.EventCallEnded) {
			t.Errorf("%s: OnePerSubject %v", k.Name, k.OnePerSubject)
		}
	}
	if got := connector.TurnEventID("call_1", 3); got != "turn:call_1:3" {
		t.Errorf("TurnEventID = %q", got)
	}
	e := connector.Event{Type: "ai.agentphone.agent.call_ended", Channel: "voice", AgentID: "agt_1", Subject: "call_1"}
	if got := e.SameSubjectFilter("p"); got != "p.call_ended.call_1.>" {
		t.Errorf("SameSubjectFilter = %q", got)
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
