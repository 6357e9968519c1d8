package agentphonetest

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	connector "github.com/agentphone-connector/connector"
	"github.com/agentphone-connector/connector/transform"
)

func TestGenerateIsReproducible(t *testing.T) {
	o := AccountOptions{Seed: 7, Calls: 30, Messages: 60, Live: 2}
	a, b := Generate(o), Generate(o)
	if !reflect.DeepEqual(a, b) {
		t.Fatal("the same options gave different accounts")
	}
	o.Seed = 8
	if c := Generate(o); reflect.DeepEqual(a.Events, c.Events) {
		t.Fatal("another seed gave the same events")
	}
}

func TestGenerateCounts(t *testing.T) {
	a := Generate(AccountOptions{Seed: 3, Calls: 25, Messages: 40, Live: 3})
	if len(a.Calls) != 25 || len(a.Live) != 3 {
		t.Errorf("%d calls and %d live, want 25 and 3", len(a.Calls), len(a.Live))
	}
	inbound, outbound := 0, 0
	for _, m := range a.Messages {
		if m.Direction == "inbound" {
			inbound++
		} else {
			outbound++
		}
	}
	if inbound != 40 || outbound != 40 {
		t.Errorf("%d inbound and %d outbound messages, want 40 and 40", inbound, outbound)
	}
	for _, c := range a.Live {
		if c.Status != StatusCompleted || len(c.Turns) < 4 || len(c.Turns) > 24 {
			t.Errorf("live call %s: status %s with %d turns, want a completed script of 4 or more", c.ID, c.Status, len(c.Turns))
		}
	}
}

// A day of a few hundred calls and messages holds every variety the issue
// asks for.
func TestGenerateVariety(t *testing.T) {
	a := Generate(AccountOptions{Seed: 1, Calls: 200, Messages: 300})
	seen := map[string]bool{}
	minTurns, maxTurns := 1000, 0
	for _, c := range a.Calls {
		seen["call "+c.Direction+" "+c.Status] = true
		seen["reason "+c.DisconnectionReason] = true
		seen["sentiment "+c.UserSentiment] = true
		if c.Status == StatusCompleted {
			minTurns, maxTurns = min(minTurns, len(c.Turns)), max(maxTurns, len(c.Turns))
		}
		if c.Status == StatusFailed && (len(c.Turns) != 0 || c.DurationSeconds() != 0) {
			t.Errorf("failed call %s has %d turns and %d s", c.ID, len(c.Turns), c.DurationSeconds())
		}
	}
	for _, m := range a.Messages {
		seen["message "+m.Channel] = true
		if m.Group != nil {
			seen["group"] = true
		}
		if len(m.MediaURLs) > 0 {
			seen["media "+m.Channel] = true
		}
		if m.ReplyTo != nil {
			seen["reply"] = true
		}
	}
	for _, e := range a.Events {
		seen["event "+e.Name+" "+e.Channel] = true
	}
	for _, want := range []string{
		"call inbound completed", "call outbound completed", "call web completed", "call inbound failed", "call outbound failed",
		"reason user_hangup", "reason agent_hangup", "reason voicemail_reached", "reason dial_no_answer", "reason ",
		"sentiment Positive", "sentiment Negative", "sentiment ",
		"message sms", "message mms", "message imessage", "message whatsapp", "group", "media mms", "reply",
		"event agent.message voice", "event agent.message sms", "event agent.message imessage", "event agent.message whatsapp",
		"event agent.call_ended voice", "event agent.reaction imessage", "event agent.reaction whatsapp",
		"event agent.voicemail_left voice", "event agent.contact_shared imessage", "event call.started voice",
	} {
		if !seen[want] {
			t.Errorf("no %q in the generated day", want)
		}
	}
	if minTurns > 4 || maxTurns < 30 {
		t.Errorf("completed calls have %d to %d turns, want some short (<=4) and some long (>=30)", minTurns, maxTurns)
	}
}

// Every generated body is one the connector's own normalizer types fully,
// except the event types it is meant not to know.
func TestGeneratedEventsNormalize(t *testing.T) {
	a := Generate(AccountOptions{Seed: 11, Calls: 60, Messages: 120})
	ids := map[string]bool{}
	var last time.Time
	for _, ev := range a.Events {
		if ids[ev.WebhookID] || ev.WebhookID == "" {
			t.Fatalf("webhook ID %q empty or repeated", ev.WebhookID)
		}
		ids[ev.WebhookID] = true
		if ev.At.Before(last) {
			t.Errorf("events out of time order at %s", ev.WebhookID)
		}
		last = ev.At
		e := transform.Normalize(transform.Meta{ID: ev.WebhookID, ReceivedAt: ev.At}, ev.Body)
		want := connector.StatusOK
		switch ev.Name {
		case "agent.voicemail_left", "call.started":
			want = connector.StatusUnknownType
		case EventContactShared:
			want = connector.StatusUntyped
		}
		if e.Status != want {
			t.Errorf("%s %s: normalized as %s, want %s\n%s", ev.Name, ev.WebhookID, e.Status, want, ev.Body)
		}
		if !e.Time.Equal(ev.At) || e.AgentID != ev.AgentID || e.Channel != ev.Channel {
			t.Errorf("%s: time %v agent %s channel %s, want %v %s %s", ev.WebhookID, e.Time, e.AgentID, e.Channel, ev.At, ev.AgentID, ev.Channel)
		}
	}
}

func TestGeneratedHistory(t *testing.T) {
	a := Generate(AccountOptions{Seed: 5, Messages: 200, ContextLimit: 3})
	longest := 0
	for _, ev := range a.Events {
		if ev.Name != EventMessage {
			continue
		}
		var body struct {
			RecentHistory []json.RawMessage `json:"recentHistory"`
		}
		if err := json.Unmarshal(ev.Body, &body); err != nil {
			t.Fatal(err)
		}
		longest = max(longest, len(body.RecentHistory))
	}
	if longest != 3 {
		t.Errorf("longest recentHistory has %d items, want the context limit 3", longest)
	}
	for _, ev := range Generate(AccountOptions{Seed: 5, Messages: 50, ContextLimit: -1}).Events {
		var body struct {
			RecentHistory []json.RawMessage `json:"recentHistory"`
		}
		if err := json.Unmarshal(ev.Body, &body); err != nil {
			t.Fatal(err)
		}
		if len(body.RecentHistory) != 0 {
			t.Fatalf("recentHistory with a negative context limit: %s", ev.Body)
		}
	}
}
