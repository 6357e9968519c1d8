package sinktest

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	connector "github.com/agentphone-connector/connector"
)

// Events returns n agent.message events spread round-robin over keys
// conversations, with IDs prefix-000000, prefix-000001, ... so that several
// sets can be journaled side by side. Bodies are about 600 bytes.
func Events(prefix string, n, keys int) []*connector.Event {
	base := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	kind := connector.KindOf(connector.TypePrefix + connector.EventMessage)
	out := make([]*connector.Event, n)
	for i := range out {
		key := fmt.Sprintf("%s-conv-%03d", prefix, i%keys)
		at := base.Add(time.Duration(i) * time.Millisecond)
		msg := connector.Message{
			MessageID: fmt.Sprintf("%s-msg-%06d", prefix, i), ConversationID: key, NumberID: "num-1",
			From: "+15550001111", To: "+15550002222", Direction: "inbound", ReceivedAt: &at,
			Body: fmt.Sprintf("message %d of %s: %s", i, key, strings.Repeat("lorem ipsum ", 30)),
		}
		data, _ := json.Marshal(msg)
		raw := fmt.Sprintf(`{"event":"agent.message","channel":"sms","timestamp":%q,"agentId":"agent-1","data":{"id":%q,"conversationId":%q}}`,
			at.Format(time.RFC3339Nano), msg.MessageID, key)
		out[i] = &connector.Event{
			ID: fmt.Sprintf("%s-%06d", prefix, i), Source: "agentphone/webhook/project", Type: kind.Type(),
			Subject: key, Time: at, DataSchema: kind.Schema(), AgentID: "agent-1", ConversationID: key,
			Channel: "sms", Direction: "inbound", Status: connector.StatusOK, ReceivedAt: at.Add(time.Second),
			Data: data, Raw: []byte(raw),
		}
	}
	return out
}

// Received is one event as read back from a target.
type Received struct {
	ID  string // the event ID the target carries (Kafka ce_id, Nats-Msg-Id, ...)
	Key string // the ordering key (the event's Subject)
}

// IDs returns the IDs of events.
func IDs(events []*connector.Event) []string {
	out := make([]string, len(events))
	for i, e := range events {
		out[i] = e.ID
	}
	return out
}

// Duplicates counts the received events whose ID was received before.
func Duplicates(got []Received) int {
	seen := map[string]bool{}
	n := 0
	for _, r := range got {
		if seen[r.ID] {
			n++
		}
		seen[r.ID] = true
	}
	return n
}

// Dedupe keeps the first copy of each ID: what a consumer that drops
// duplicates by event ID sees.
func Dedupe(got []Received) []Received {
	seen := map[string]bool{}
	var out []Received
	for _, r := range got {
		if !seen[r.ID] {
			out = append(out, r)
			seen[r.ID] = true
		}
	}
	return out
}

// CheckDelivered reports how got differs from want once duplicates are
// dropped: an event missing or unexpected, a key out of journal order.
// It returns nil when every event arrived, each key in order.
func CheckDelivered(want []*connector.Event, got []Received) error {
	got = Dedupe(got)
	wantKey := map[string][]string{}
	for _, e := range want {
		wantKey[e.Subject] = append(wantKey[e.Subject], e.ID)
	}
	gotKey := map[string][]string{}
	for _, r := range got {
		gotKey[r.Key] = append(gotKey[r.Key], r.ID)
	}
	if len(got) != len(want) {
		return fmt.Errorf("got %d distinct events, want %d", len(got), len(want))
	}
	for key, ids := range wantKey {
		if g := gotKey[key]; strings.Join(g, ",") != strings.Join(ids, ",") {
			return fmt.Errorf("key %s: got %d events %v, want %d in journal order %v", key, len(g), head(g), len(ids), head(ids))
		}
	}
	return nil
}

func head(ids []string) []string {
	if len(ids) > 8 {
		return append(ids[:8:8], "...")
	}
	return ids
}
