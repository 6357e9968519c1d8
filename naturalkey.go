package connector

import "strconv"

// Natural keys name what an event is about independently of the path it
// took into the connector (SPEC.md 2.8), so that a call reported by a webhook,
// by the transcript stream and by backfill is one record downstream.
//
// Two mechanisms use them:
//
//   - Events the connector builds itself (transcript turns, backfilled calls,
//     failed deliveries) take a natural key as their event ID. Every source
//     builds the same ID for the same thing, and the journal's Nats-Msg-Id
//     window keeps one copy.
//   - A webhook's event ID is its X-Webhook-ID, which no other source can
//     know. A kind whose events can also arrive by another path is marked
//     Kind.OnePerSubject, and its subject (the call ID of agent.call_ended)
//     is the natural key: the journal takes an event of that kind only when
//     it holds none for the subject yet, in the same step that stores it.

// TurnEventID returns the ID of the transcript.turn event for the turn at
// position (0-based) of call callID. The transcript stream and the REST
// transcript number turns the same way, so both produce the same ID.
func TurnEventID(callID string, position int) string {
	return "turn:" + callID + ":" + strconv.Itoa(position)
}

// CallEventID returns the ID of an agent.call_ended event the connector
// builds from AgentPhone's REST API, and the natural key of every
// agent.call_ended event of that call.
func CallEventID(callID string) string { return "call:" + callID }

// TranscriptKey returns the key that records that every turn of the finished
// call callID is journaled: set by the transcript source when a stream
// ends and by backfill after a transcript, so backfill need not read the
// transcript again.
func TranscriptKey(callID string) string { return "transcript:" + callID }

// DeliveryFailedEventID returns the ID of the connector.delivery_failed event
// of a delivery in AgentPhone's deliveries log.
func DeliveryFailedEventID(deliveryID string) string { return "delivery:" + deliveryID }
