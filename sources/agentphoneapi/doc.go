// Package agentphoneapi is the connector's client of AgentPhone's REST API
// (SPEC.md 4 and 5): the calls list, a call's transcript, the webhook
// deliveries log and the transcript stream, with Bearer authentication.
//
// Answers are read leniently, as the spec's conflicting sources require:
// both transcript shapes (Q9), both deliveries-list shapes (Q10) and every
// error envelope (Q12). REST requests are retried on 429 (after Retry-After)
// and on 5xx or transport errors (exponential backoff with jitter); 401, 403,
// 404 and 422 are returned at once, marked connector.Permanent.
package agentphoneapi
