// Package natssink publishes the journal's events to a NATS deployment other
// than the journal's: services on another cluster subscribe there.
//
// Each event is published as the journal stores it (the CloudEvents envelope
// as JSON, Content-Type application/cloudevents+json) on a subject from
// CONNECTOR_NATS_SINK_SUBJECT, by default agentphone.<kind>.<subject>.<channel>.<agent>
// like the journal's own.
//
// In jetstream mode (the default) a stream on the target must bind those
// subjects; every message carries Nats-Msg-Id = the event ID, and the sink
// waits for each ack before the journal is acknowledged. The stream drops
// a second publish of an ID within its duplicate window (duplicate_window,
// 2 minutes by default), which makes the rewrite after a lost ack, a crash
// or a takeover exactly once: those come within seconds. The sink reports
// such a publish as already written (counted as skipped). A re-drive with
// `connector replay` of events older than the window stores them again:
// the stream no longer remembers their IDs. Keep the window at least as
// long as a re-drive may reach back if that must not happen, or have
// consumers drop IDs they have seen. In core mode the messages go to
// whoever subscribes at that moment, at most once.
//
// Per-key order: publishes are pipelined. If one fails transiently, the
// later events of its key in the batch are published again after it; the
// stream drops those copies by ID, so a consumer can see a key's later
// event before the retried earlier one only when a publish failed in the
// middle of a batch (a server restart, say).
package natssink
