// Package transcript follows the transcript stream of every live call
// (SPEC.md 4.1) and journals each turn as a transcript.turn event.
//
// Live calls are found two ways: a durable consumer of the journal's voice
// messages (agentphone.message.*.voice.*; each carries a callId, whichever
// replica took the webhook in), and a poll of GET /v1/calls?status=in-progress
// for calls of hosted-mode agents, which send no voice webhooks. The poll
// also runs at start, so calls still live after a restart are picked up.
//
//	voice message ─┐                         ┌─▶ follower: GET …/transcript/stream
//	               ├─▶ Follow ─▶ claim (KV) ─┤     connected, replayed turns, live turns, ended
//	poll ──────────┘     full? leave it to   │     each turn ─▶ transform.Turns ─▶ guard ─▶ journal
//	                     another replica     └─▶ renew the claim every TTL/5
//
// Every connection replays the call from its first turn, so a turn's
// event ID is turn:<callId>:<position> and the journal's Nats-Msg-Id window
// drops the replays: a stream dropped mid-call and reopened, or a restart,
// yields each turn once. Backfill numbers the REST transcript the same way.
//
// With several replicas each call is followed by one: a replica claims a
// call in the KV bucket ClaimsBucket(stream) before opening its stream and
// renews the claim every fifth of AGENTPHONE_TRANSCRIPT_CLAIM_TTL (a lease
// of package lease, as the sinks' and backfill's are). Close releases the
// claims; a crashed replica's claims lapse after the TTL and
// the next discovery (a poll, a voice message) hands the call to another
// replica. A replica restarted under the same name (lease.Name) takes its own claims
// back at once. An ended call is marked done for the TTL, so late voice
// messages do not reopen it. Were two replicas ever to follow one call (a
// claim lapsing during a NATS outage), the journal still keeps each turn
// once.
//
// A connection silent for three heartbeats is dead; it is reopened after an
// exponential backoff with jitter, at least the Retry-After of a 429. A 404,
// 401 or 403 stops that call at once (metric and log, no retries).
package transcript
