// Package transform turns what AgentPhone sends into connector.Events: a
// verified webhook body (Normalize) and a transcript entry from the SSE
// stream or the REST API (Turns). Neither fails: what cannot be typed is
// carried with its raw bytes and a Status saying why, so that nothing signed
// is lost.
//
// A webhook body, hop by hop:
//
//	raw body (verified by sources/webhook)
//	  ▼
//	decode the wire envelope (wire.go) leniently: every field optional,
//	  │ unknown fields ignored ──not a JSON object──▶ connector.invalid,
//	  │                                                StatusInvalidJSON, raw only
//	  ▼
//	the event name picks the kind (kinds.go):
//	  │ agent.message, agent.call_ended, agent.reaction ─▶ typed data
//	  │ agent.contact_shared ─▶ data as sent, StatusUntyped
//	  │ any other name ─▶ data as sent, StatusUnknownType
//	  │ typed data that does not decode or lacks its IDs ─▶ data as sent,
//	  │                                                     StatusInvalidData
//	  ▼
//	attributes downstream filters on: time (the body's timestamp, else the
//	  │ receive time), agent, channel, call, conversation, direction, and
//	  │ the subject (the call or conversation: the Kafka key, the last
//	  │ token of the journal subject)
//	  ▼
//	*connector.Event with Raw = the body; its strings point into it
//
// A transcript entry: Interim (still being spoken) entries are skipped;
// Turns makes one transcript.turn event per utterance, with the ID
// turn:<call>:<position>, so the stream, its replays and backfill key a
// turn alike.
package transform
