package connector

import (
	"reflect"
	"strings"
)

// TypePrefix starts every event type: the CloudEvents type is TypePrefix plus
// the AgentPhone event name.
const TypePrefix = "ai.agentphone."

// Kind is one entry of the event catalogue: the single definition from which
// the JSON, the NATS subject, the Kafka key and the BigQuery columns of an
// event type are derived.
type Kind struct {
	Name    string       // the AgentPhone event name, e.g. "agent.message"
	Token   string       // the subject token: agentphone.<Token>.<subject>.<channel>.<agent>
	Data    reflect.Type // the typed data (a struct), nil when the kind is carried as sent
	Subject string       // what the CloudEvents subject (and Kafka key) holds
	Doc     string       // one line for the event table
	// OnePerSubject says the journal holds at most one event of the kind
	// per subject (the call of agent.call_ended), whichever source reported
	// it: a second one, under any event ID, is a duplicate.
	OnePerSubject bool
}

// Type returns the CloudEvents type of the kind.
func (k Kind) Type() string { return TypePrefix + k.Name }

// Schema returns the data schema URI of the kind; its version changes when
// the typed data changes incompatibly.
func (k Kind) Schema() string {
	if k.Data == nil {
		return ""
	}
	return "urn:agentphone-connector:schema:" + k.Name + ":v1"
}

// Fields returns the JSON names of the kind's top-level data fields, in order.
func (k Kind) Fields() []string {
	if k.Data == nil {
		return nil
	}
	var out []string
	for i := range k.Data.NumField() {
		name, _, _ := strings.Cut(k.Data.Field(i).Tag.Get("json"), ",")
		if name != "" && name != "-" {
			out = append(out, name)
		}
	}
	return out
}

// Names of the kinds the connector knows.
const (
	EventMessage        = "agent.message"
	EventCallEnded      = "agent.call_ended"
	EventReaction       = "agent.reaction"
	EventContactShared  = "agent.contact_shared"
	EventTranscriptTurn = "transcript.turn"
	EventUnknown        = "connector.unknown" // the kind of every name not in the catalogue; never an event's own type
	EventInvalid        = "connector.invalid"
	EventDeliveryFailed = "connector.delivery_failed"
)

// catalogue is read only; Kinds hands out copies.
var catalogue = [...]Kind{
	{Name: EventMessage, Token: "message", Data: reflect.TypeFor[Message](), Subject: "conversation ID (call ID for voice)",
		Doc: "an inbound or outbound message on any channel; a caller's utterance on voice"},
	{Name: EventCallEnded, Token: "call_ended", Data: reflect.TypeFor[CallEnded](), Subject: "call ID", OnePerSubject: true,
		Doc: "a finished call with its whole transcript and analysis"},
	{Name: EventReaction, Token: "reaction", Data: reflect.TypeFor[Reaction](), Subject: "conversation ID",
		Doc: "a tapback or reaction to a message"},
	{Name: EventTranscriptTurn, Token: "transcript_turn", Data: reflect.TypeFor[TranscriptTurn](), Subject: "call ID",
		Doc: "one turn of a live call, from the transcript stream or backfill"},
	{Name: EventContactShared, Token: "contact_shared", Subject: "conversation ID if present",
		Doc: "a shared contact card; AgentPhone documents no payload, data is carried as sent"},
	{Name: EventUnknown, Token: "unknown", Subject: "call or conversation ID if present",
		Doc: "any event name the connector does not know yet; type is ai.agentphone.<name>, data as sent"},
	{Name: EventInvalid, Token: "invalid", Subject: "empty",
		Doc: "a signed body that is not a JSON object; raw body only"},
	{Name: EventDeliveryFailed, Token: "delivery_failed", Data: reflect.TypeFor[DeliveryFailed](), Subject: "delivery ID",
		Doc: "a webhook AgentPhone gave up delivering, found in its deliveries log by backfill; the log has no payload"},
}

const unknownIndex = 5 // catalogue[unknownIndex].Name == EventUnknown

// Kinds returns the catalogue, in the order of the event table.
func Kinds() []Kind { return append([]Kind(nil), catalogue[:]...) }

// KindOf returns the kind of a CloudEvents type; types the catalogue does not
// name belong to the "unknown" kind.
func KindOf(eventType string) Kind {
	name := strings.TrimPrefix(eventType, TypePrefix)
	for _, k := range catalogue {
		if k.Name == name {
			return k
		}
	}
	return catalogue[unknownIndex]
}
