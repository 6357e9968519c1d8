// Package sinks is the delivery machinery every sink shares: it reads the
// journal through one durable JetStream consumer per sink, hands batches to
// the sink's connector.Writer through a chain of small senders (retry,
// fence, commit, dead-letter, idempotence, timeout), and commits a batch,
// saving the sink's progress, only once every event of it is in the target
// or in the dead-letter stream.
//
// # One replica per sink
//
// Every replica of the connector runs a Runner, and each sink is delivered
// by exactly one of them at a time: the one holding the sink's lease (see
// package lease), a key in the JetStream key-value bucket
// AGENTPHONE_SINK_LEASES whose entries expire TTL after their last write.
// The others stand by, try for the lease every TTL/40 to TTL/20, and take
// the sink over once it is released (a clean shutdown) or has expired (a
// crash, a replica cut off from NATS); a replica restarted under its name
// takes its own lease back at once. Different sinks may be held by
// different replicas.
//
//	replica A: holder of "kafka" ──renews every TTL/5──▶ AGENTPHONE_SINK_LEASES
//	replica B: standby for "kafka" ──Acquire every TTL/20, refused while A holds──┘
//
// # A term
//
// While it holds the lease, a replica delivers in terms (delivery.go,
// term.go). A term moves the consumer to just after the sink's saved
// progress (the bucket <journal>_SINK_PROGRESS, one entry per sink), reads
// a few batches ahead (decoding them, and encoding them when the Writer is
// a Preparer), and sends each batch down the chain (chain.go):
//
//	journal ──pull──▶ reader ──batch──▶ retry ─▶ fence ─▶ commit ─▶ deadLetter ─▶ idempotence ─▶ timeout ─▶ Writer
//	   ▲                                                     │
//	   └── committer: progress saved (seq + writer checkpoint), then ack ◀┘
//
// A failing sink retries its batch in place, only the events still to do
// and in their order (its backlog waits in the journal); it never naks
// events back, so healthy sinks see no duplicates and per-key order (the
// event Subject) holds. Ingest and the other sinks carry on. No write, dead
// letter, commit or pull starts once the lease may have ended, and none
// outlives it.
//
// # Exactly once
//
// The progress holds the last committed journal sequence and the writer's
// checkpoint at that point. A writer that is a Resumable gets the
// checkpoint back at the start of every term, and finds out from the
// target what was written beyond it (by a holder that died, or before a
// restart); after a write whose outcome it did not learn (a timeout, a
// lost connection) it does the same before writing again. Events the
// target holds already are reported connector.ErrAlreadyWritten and
// counted as skipped. The Kafka sink reads partitions back, the BigQuery
// sink resumes its write streams at their offsets; the NATS sink's target
// stream drops copies by Nats-Msg-Id. What no lease can fence is a holder
// frozen longer than a fifth of the TTL between its check of the lease and
// its write (a VM paused mid-write): that write may land after the
// takeover, as one more copy.
//
// Per-key order is shared work: the chain hands a sink one batch at a time
// and retries only the failed events, in their original order; a Writer
// must not report an event written when an earlier event of the same batch
// with the same Subject failed transiently (see Sink).
package sinks
