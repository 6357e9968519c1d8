// Package sinks is the delivery machinery every sink shares: it reads the
// journal through one durable JetStream consumer per sink, hands batches to
// the sink's connector.Writer, retries what failed, dead-letters what the
// target will never take, and acknowledges the journal only for events that
// are durable in the target or in the dead-letter stream.
//
// One sink's loop:
//
//	journal ──Fetch(size, bytes, wait)──▶ decode ──undecodable──────────────┐
//	   ▲                                    │                                │
//	   │                                    ▼                                ▼
//	   │                     ┌──▶ Writer.Write(batch) ──permanent──▶ dead-letter stream
//	   │                     │              │                   (sink, reason in headers)
//	   │      transient: the failed events  │ written                        │
//	   │      only, in order, after backoff │                                │
//	   │      with jitter (kept in progress)│                                │
//	   │                     └──────────────┤                                │
//	   └────────── ack every message of the batch ◀──────────────────────────┘
//
// A failing sink retries its batch in place (its backlog waits in the
// journal); it never naks events back, so healthy sinks see no duplicates and
// per-key order (the event Subject) holds. Ingest and the other sinks carry on.
//
// Per-key order is shared work: the loop hands a sink one batch at a time and
// retries only the failed events, in their original order; a Writer must not
// report an event written when an earlier event of the same batch with the
// same Subject failed transiently (see Runner).
//
// Delivery is at least once: a crash between a write and the journal ack
// writes the batch again. Every event carries its ID (Kafka ce_id header,
// Nats-Msg-Id, BigQuery event_id) so targets and consumers drop the copy.
package sinks
