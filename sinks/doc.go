// Package sinks is the delivery machinery every sink shares: it reads the
// journal through one durable JetStream consumer per sink, hands batches to
// the sink's connector.Writer, retries what failed, dead-letters what the
// target will never take, and acknowledges the journal only for events that
// are durable in the target or in the dead-letter stream.
//
// # One replica per sink
//
// Every replica of the connector runs a Runner, and each sink is delivered
// by exactly one of them at a time: the one holding the sink's lease, a key
// in the JetStream key-value bucket AGENTPHONE_SINK_LEASES whose entries
// expire TTL after their last write. The others stand by, try for the lease
// every TTL/5, and take the sink over once it is released (a clean shutdown)
// or has expired (a crash, a replica cut off from NATS). Different sinks may
// be held by different replicas. See lease.go for the timing.
//
//	replica A: holder of "kafka" ──renews every TTL/5──▶ AGENTPHONE_SINK_LEASES
//	replica B: standby for "kafka" ──Create every TTL/5, refused while A holds──┘
//
// Because the holder is the consumer's only reader, it acknowledges a whole
// batch with one ack (AckAll), and per-key order holds across replicas: a
// holder stops writing before its lease can expire, and the next one starts
// by rewinding the consumer to its ack floor, so whatever the previous one
// had read and not acknowledged comes again, in journal order, before
// anything newer. Those events may be written twice (counted in
// connector_sink_rewound_events_total).
//
// # One sink's loop, on its holder
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
//	   └────────── ack the batch's last message (all up to it) ◀────────────┘
//
// A failing sink retries its batch in place (its backlog waits in the
// journal); it never naks events back, so healthy sinks see no duplicates and
// per-key order (the event Subject) holds. Ingest and the other sinks carry
// on. A write, a dead-letter publish and a fetch each end no later than the
// holder's lease would.
//
// Per-key order is shared work: the loop hands a sink one batch at a time and
// retries only the failed events, in their original order; a Writer must not
// report an event written when an earlier event of the same batch with the
// same Subject failed transiently (see Sink).
//
// Delivery is at least once: a crash between a write and the journal ack
// writes the batch again, and so does a takeover. Every event carries its ID
// (Kafka ce_id header, Nats-Msg-Id, BigQuery event_id) so targets and
// consumers drop the copy.
package sinks
