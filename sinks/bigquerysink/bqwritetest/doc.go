// Package bqwritetest is an in-process BigQuery Storage Write API server for
// tests: a real gRPC server implementing storagepb.BigQueryWriteServer with
// BigQuery's semantics, so a managedwriter client talks to it as to BigQuery.
//
// What it keeps from BigQuery:
//   - stream types: the _default stream of every table (at-least-once, no
//     offsets), COMMITTED streams (rows visible at once), PENDING streams
//     (visible after FinalizeWriteStream and BatchCommitWriteStreams) and
//     BUFFERED streams (visible up to the offset given to FlushRows);
//   - offsets: an append at the stream's end is written, one below it gets
//     ALREADY_EXISTS (OFFSET_ALREADY_EXISTS), one beyond it OUT_OF_RANGE
//     (OFFSET_OUT_OF_RANGE); appends are atomic;
//   - the writer schema: the first request of a connection must carry the
//     stream name and the proto descriptor; a field the table does not have,
//     a type that does not match its column, or a REQUIRED column the writer
//     leaves out is a schema mismatch (INVALID_ARGUMENT), and nothing is written;
//   - rows are decoded with the writer schema; a row that does not decode or
//     holds a value BigQuery refuses (a missing REQUIRED value, a STRING that
//     is not UTF-8, a JSON value that is not JSON, a TIMESTAMP outside years
//     1 to 9999) fails the whole append with INVALID_ARGUMENT and is listed in
//     RowErrors, so the client can drop it and append the rest;
//   - a finalized stream takes no more rows (STREAM_FINALIZED).
//
// Faults for tests: FailAppends answers the next appends with a gRPC error
// and writes nothing (an outage); DropAcks writes the next appends and then
// breaks the connection instead of answering (a lost acknowledgement);
// DelayAcks writes the next appends and answers them late (a timeout that
// wrote anyway);
// Restart stops the gRPC server and starts a new one on the same address
// with the same tables.
//
// Rows are read back with Rows, decoded to Go values: STRING and JSON as
// string, INTEGER and TIMESTAMP as int64 (TIMESTAMP in microseconds since
// the epoch), FLOAT as float64, BOOLEAN as bool, BYTES as []byte, RECORD as
// map[string]any, REPEATED as []any; a NULL column is absent from the map.
// Watch has a function told of rows as they become visible (to measure
// when an event is readable, say).
package bqwritetest
