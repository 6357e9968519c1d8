// Package kafkasink writes the journal's events to Kafka with kafka-go. It is
// the only package that imports kafka-go.
//
// Each event becomes one record:
//
//   - topic: CONNECTOR_KAFKA_TOPIC (agentphone.events), or one per event
//     family when the name holds {kind} (agentphone.{kind} gives
//     agentphone.message, agentphone.call_ended, ...);
//   - key: the event's subject, the call or conversation ID, so a call's or a
//     conversation's events share a partition and stay in order;
//   - binary mode (default), the CloudEvents Kafka binding: every attribute
//     as a ce_ header (ce_id, ce_type, ce_source, ce_time, ce_subject,
//     ce_dataschema, ce_specversion, and the extensions ce_agentid,
//     ce_callid, ce_conversationid, ce_channel, ce_direction,
//     ce_normstatus, ce_receivedtime), content-type application/json, the
//     normalized data as value (the body as sent, application/octet-stream,
//     for a body that is not JSON);
//   - structured mode: the whole envelope, raw body included, as value,
//     content-type application/cloudevents+json;
//   - timestamp: when the connector received the event.
//
// Records are produced with acks=all, compressed, in requests of at most
// CONNECTOR_KAFKA_BATCH_SIZE records and CONNECTOR_KAFKA_BATCH_BYTES bytes.
//
// # Exactly once
//
// Each event is written once, without transactions (kafka-go has none) and
// without asking consumers to drop copies. The writer keeps a ledger
// (ledger.go): per partition, the offset after its last write whose answer
// it got. A write whose outcome is unknown (a timeout, REQUEST_TIMED_OUT
// after the broker appended, a connection lost after sending) marks its
// topic in doubt; before the next write the writer reads each partition of
// that topic from the ledger's offset to its end and skips the events whose
// ce_id (structured mode: the envelope's "id") it finds there. The ledger is
// the sink's checkpoint, saved with every journal position the sink
// commits: a replica that takes the sink over (or this one after a crash)
// reads the partitions from the checkpoint on in the same way, so what the
// last holder wrote and did not commit is not written again. Before it
// reads back, the writer waits until kafka-go has an answer for every
// produce request it sent (a write cut short by its context leaves them
// running). Reading back costs one fetch per partition holding such
// records, and happens only after an unknown outcome or at the start of a
// term.
//
// Where a copy can still appear: a produce the broker applied but had not
// replicated to the in-sync replicas when the sink read the partition back
// (consumers see up to the high watermark only), or one the broker applied
// only after the client had given up on it and the sink had read back (a
// request stuck in a broker longer than CONNECTOR_KAFKA_REQUEST_TIMEOUT
// plus the retry wait); a holder frozen mid-write past its lease (see
// package sinks); the first takeover after an upgrade from a version
// without checkpoints. A re-drive with `connector replay` writes the
// events again on purpose.
package kafkasink
