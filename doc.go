// Package connector holds the domain of agentphone-connector: the event
// envelope every source produces and every sink consumes, the catalogue of
// event kinds with their typed data, and the small contracts between the parts.
//
// The data path:
//
//	sources (webhook, transcript, backfill)
//	     │  transform.Normalize: AgentPhone body → *Event (raw body kept)
//	     ▼
//	dedupe.Guard ──▶ journal (JetStream stream, Nats-Msg-Id = Event.ID)
//	     │  a source acknowledges its input only after Append returns nil
//	     ▼
//	sinks, each through its own durable consumer
//
// Packages that wrap a heavy client (nats-server, kafka-go, BigQuery) import
// this package; this package imports none of them.
package connector
