// Package webhook receives AgentPhone's signed webhooks. Each delivery is
// answered once its fate is known: journaled (200), refused for good (4xx,
// which AgentPhone never retries) or not now (503 with Retry-After, which it
// retries for about 21 hours). Nothing is parsed or written before the
// signature holds.
//
// One delivery, hop by hop (Server reads it with fasthttp; ServeHTTP is the
// same path on net/http):
//
//	POST /webhooks/agentphone[/<route>]
//	  │ Server: request line and headers, CONNECTOR_HTTP_READ_TIMEOUT; the body streams
//	  ▼
//	admit: a known route? ──no──▶ 404 unknown_route
//	  │    POST? ──no──▶ 405 method (Allow: POST)
//	  │    the route has a secret? ──no──▶ 503 no_secret (held while rotating)
//	  ▼
//	read the body, at most CONNECTOR_MAX_BODY_BYTES ──more──▶ 413 body_too_large (connection closed)
//	  │                                              ──fails──▶ 400 body_read (the client went)
//	  ▼
//	Verifier: HMAC-SHA256 of "{timestamp}.{body}" with any of the route's
//	  │ secrets, timestamp within AGENTPHONE_WEBHOOK_TOLERANCE
//	  │ ──fails──▶ 401 missing_signature, bad_signature, stale_timestamp, ...
//	  ▼
//	transform.Normalize: body → connector.Event; never fails, keeps the raw body
//	  │ event ID: X-Webhook-ID, or a hash of the body when it is missing
//	  ▼
//	connector.Appender (dedupe.Guard in front of the journal), at most
//	  │ CONNECTOR_JOURNAL_APPEND_TIMEOUT ──fails──▶ 503 journal_unavailable
//	  ▼
//	200 {"id": "<event ID>", "status": "accepted" | "duplicate"}
//
// Every answer is counted in connector_webhook_requests_total{route,code};
// every answer but 200 also in connector_webhook_rejections_total{route,reason},
// with a short JSON body {"error": "<reason>", "message": "..."}. Failures are
// logged sparingly (the journal's at most every 10 s), never one line per
// request at info.
package webhook
