package sinktest

import (
	"encoding/json"
	"fmt"
	"slices"
	"time"

	connector "github.com/agentphone-connector/connector"
)

// mixedKinds are the kinds MixedEvents cycles through.
var mixedKinds = [...]string{connector.EventMessage, connector.EventCallEnded, connector.EventReaction, connector.EventTranscriptTurn}

// MixedEvents returns n events cycling through messages, ended calls,
// reactions and transcript turns, each with typed data of its kind (every
// typed table of a target gets rows), IDs prefix-000000, prefix-000001, ...
// Calls and conversations are spread over keys subjects; each ended call is
// a call of its own (the journal keeps one per call).
func MixedEvents(prefix string, n, keys int) []*connector.Event {
	base := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	out := make([]*connector.Event, n)
	for i := range out {
		at := base.Add(time.Duration(i) * time.Millisecond)
		name := mixedKinds[i%len(mixedKinds)]
		e := &connector.Event{
			ID: fmt.Sprintf("%s-%06d", prefix, i), Source: "agentphone/webhook/project", Time: at,
			AgentID: "agent-1", Status: connector.StatusOK, ReceivedAt: at.Add(time.Second),
		}
		key := fmt.Sprintf("%s-key-%03d", prefix, i%keys)
		var data any
		switch name {
		case connector.EventMessage:
			e.ConversationID, e.Channel, e.Direction = key, "sms", "inbound"
			data = connector.Message{MessageID: e.ID, ConversationID: key, From: "+15550001111", To: "+15550002222", Direction: "inbound", Body: "hello " + e.ID}
		case connector.EventReaction:
			e.ConversationID, e.Channel = key, "imessage"
			data = connector.Reaction{ConversationID: key, ReactionType: "like", MessageID: "msg-" + e.ID}
		case connector.EventCallEnded:
			call := "call-" + e.ID
			e.CallID, e.Channel, e.Direction = call, "voice", "inbound"
			data = connector.CallEnded{CallID: call, Status: "completed", DurationSeconds: 42, TurnCount: 2,
				Transcript: []connector.Turn{{Role: "agent", Content: "hello"}, {Role: "user", Content: "bye"}}}
		case connector.EventTranscriptTurn:
			e.CallID, e.Channel = key, "voice"
			data = connector.TranscriptTurn{CallID: key, Position: i, Role: "user", Content: "turn of " + e.ID}
		}
		kind := connector.KindOf(connector.TypePrefix + name)
		e.Type, e.DataSchema = kind.Type(), kind.Schema()
		e.Subject = e.ConversationID + e.CallID
		e.Data, _ = json.Marshal(data)
		e.Raw = []byte(fmt.Sprintf(`{"event":%q,"id":%q}`, kind.Name, e.ID))
		out[i] = e
	}
	return out
}

// OfKinds returns the events of the kinds given by subject token, in order.
func OfKinds(events []*connector.Event, tokens ...string) []*connector.Event {
	var out []*connector.Event
	for _, e := range events {
		if slices.Contains(tokens, e.Kind().Token) {
			out = append(out, e)
		}
	}
	return out
}
