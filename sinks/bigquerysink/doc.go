// Package bigquerysink writes journaled events to BigQuery through the
// Storage Write API and keeps the dataset the analytics read: the tables,
// the views and the named queries of `connector query`. It is the only
// package that imports the BigQuery client.
//
// Tables, all derived from Go types (see schema.go and tables.go): events,
// the audit history, one row per event with the raw body; and one typed
// table per kind of the catalogue that has typed data (calls, call_turns,
// messages, reactions), whose columns are the envelope columns plus the
// fields of the kind's data type. Nothing is written twice by hand: a new
// field in connector's data types is a new column, added to existing
// tables at the next start (EnsureSchema).
//
//	Write(batch) ──▶ rows per table ──▶ one appender per table, in parallel
//	                                      │ append at offset (committed mode)
//	                                      ▼
//	                        BigQuery Storage Write API (managedwriter)
//
// # Exactly once
//
// In the default mode (CONNECTOR_BIGQUERY_STREAM=committed) each table is
// written through a COMMITTED write stream, every append at the explicit
// offset where it must land. managedwriter resends an append whose answer
// was lost with the same rows at the same offset, and BigQuery answers
// ALREADY_EXISTS if the first try was written: the sink counts that as
// written. An append whose outcome stays unknown (the retries ran out, ctx
// ended) is settled before anything else goes to that stream by sending the
// very same rows at the very same offset.
//
// The sink's checkpoint (resume.go), saved with every journal position the
// sink commits, is each table's stream and next offset. A replica that
// takes the sink over, or this one after a restart, goes on with the same
// streams from there (they are never finalized) and probes: it appends the
// events one at a time at their offsets, all sent at once, and each is
// answered ALREADY_EXISTS (the last holder wrote it: skipped) until the
// first that is written, where the last holder stopped. An event's rows are
// never split between appends (chunks), so the probes line up with what
// was written, in every table: events and the typed tables alike.
//
// What offsets cannot cover: a stream given up after a definite refusal (a
// schema that changed, OUT_OF_RANGE) is followed by a new one, and a crash
// before the next commit then rewrites the events since that commit into
// the new stream; a replay of the journal writes on a new stream on
// purpose. Those can leave a second copy of a row, so every view reads the
// tables through the *_unique views, which keep one row per event_id (per
// event_id and position for turns). With CONNECTOR_BIGQUERY_STREAM=default
// the sink appends to each table's _default stream instead: no stream to
// create, no offset to track, and every retry may add a copy, which the
// views then remove.
//
// # Errors
//
// Write returns connector.WriteErrors lined up with the batch. Rows
// BigQuery rejects for good (a row error: an invalid value) and rows too
// large for an append come back connector.Permanent, so the machinery
// dead-letters their events with the reason; the other rows of the append
// are written. Everything else (an outage, an append of unknown outcome, a
// table whose schema does not match yet) is retryable.
package bigquerysink
