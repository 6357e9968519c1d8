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
// # Duplicates
//
// Delivery is at least once. A connector that stops between Kafka's ack and
// the journal's (a crash, a kill -9, a replica cut off from NATS) has that
// batch written again by whichever replica delivers the sink next: usually
// one batch, at most three (3 × CONNECTOR_KAFKA_BATCH_SIZE records, what the
// sink may hold unacknowledged), each an exact copy with the same ce_id
// (structured mode: the same "id" in the value), in the same partition,
// after the original. A consumer that must see each event
// once keeps the ce_id values it has processed, per partition, for as long as
// a crash can take to recover (minutes; the journal's dedupe window, 72 h, is
// a safe bound), and skips a record whose ce_id it has seen; or it writes
// with ce_id as an idempotency key (an upsert, a unique constraint). A
// re-drive with `connector replay` produces copies the same way.
package kafkasink
