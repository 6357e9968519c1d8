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
// written, so a lost acknowledgement never makes a duplicate. OUT_OF_RANGE
// (the stream is shorter than the sink thought) abandons the stream and
// appends on a new one. When an append ends with its outcome unknown (the
// retries ran out, ctx ended), the stream is abandoned, so an offset that
// may hold rows is never reused with other rows.
//
// What offsets cannot cover: an append of unknown outcome that did land,
// followed by the machinery's retry on a new stream; a restart before the
// journal was acknowledged; a replay of the journal; an event whose rows
// reached some tables and not others (the sink skips the tables that hold
// them when it still remembers the event). Those can leave a second copy of
// a row, so every view reads the tables through the *_unique views, which
// keep one row per event_id (per event_id and position for turns). With
// CONNECTOR_BIGQUERY_STREAM=default the sink appends to each table's
// _default stream instead: no stream to create, no offset to track, and
// every retry may add a copy, which the views then remove (the trade-off is
// measured in the tests and benchmarks; see docs/bigquery.md).
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
