// Package backfill fills the journal's gaps from AgentPhone's REST API:
// calls and their transcripts, and the webhook deliveries AgentPhone gave
// up on. It runs as `connector backfill --since 72h`, or periodically inside
// serve (CONNECTOR_BACKFILL_INTERVAL, off by default).
//
// Everything is journaled under the natural keys the other sources use, so
// a call seen by its webhook, the transcript stream and backfill is one
// call downstream:
//
//	GET /v1/calls (newest first, back to --since)
//	  └─ each finished call ─▶ GET /v1/calls/{id}/transcript
//	        ├─ each turn ─▶ transcript.turn  ID turn:<callId>:<position>   (as the stream numbers them)
//	        └─ the call  ─▶ agent.call_ended ID call:<callId>, one per call in the journal
//	                        (a duplicate when the call's webhook was journaled)
//	GET /v1/webhooks/deliveries (back to --since)
//	  └─ each failed delivery ─▶ connector.delivery_failed ID delivery:<deliveryId>
//
// What a failed delivery yields: the deliveries log names the event type,
// channel and message ID but holds no payload, and the API serves no
// message by ID. So backfill journals a connector.delivery_failed record of
// the gap (with the last answer's status and error) rather than the lost
// event. A lost agent.call_ended or voice message is recovered anyway by
// the calls phase; a lost text message or reaction stays a recorded gap.
//
// Live calls are left to the transcript source, and calls that ended within
// CONNECTOR_BACKFILL_SETTLE to their webhook: the REST API lacks the
// webhook's analysis (summary, sentiment, disconnection reason), and once
// backfill has journaled a call, its late webhook is answered as a
// duplicate.
//
// A run saves its place in a KV bucket (CheckpointBucket) after every call
// and every page of deliveries; an interrupted run is resumed by the next
// one, and only one run (of any process or replica) holds the checkpoint at
// a time: the holder of a lease (package lease) in LeaseBucket, which a
// run that died keeps for two minutes and a replica restarted under its
// name takes back at once. Requests answered 429 wait for Retry-After
// (agentphoneapi).
package backfill
