// Package agentphonetest is an AgentPhone test server, in the manner of
// net/http/httptest: it plays the provider for tests of the connector's
// sources and for `connector simulate`, awkward parts included.
//
// It holds an account with a day of traffic (Generate) and
//
//   - delivers webhooks (Server.Deliver) signed as SPEC.md 1.3 with the
//     route's secret, X-Webhook-ID stable across retries and every attempt
//     re-signed with a fresh X-Webhook-Timestamp; retried on 5xx, timeouts
//     and connection errors, never on 4xx, on AgentPhone's schedule (now,
//     5 min, 30 min, 2 h, 6 h, 12 h) shrunk by Options.TimeScale; every
//     attempt recorded (Server.Deliveries). Misbehavior adds duplicates,
//     stale timestamps and wrong secrets; OutOfOrder reorders traffic;
//   - serves the REST endpoints the connector calls (GET /v1/calls,
//     /v1/calls/{id}, /v1/calls/{id}/transcript, /v1/webhooks/deliveries)
//     behind a Bearer API key, with SPEC.md 5's error shapes and a rate
//     limit answered 429 with Retry-After;
//   - serves the transcript stream GET /v1/calls/{id}/transcript/stream:
//     connected, every stored turn replayed, live turns, ": heartbeat"
//     comments, ended; Options.Stream drops, stalls, uses CRLF or multi-line
//     data.
//
// Live calls are driven by the test:
//
//	srv, _ := agentphonetest.NewServer(agentphonetest.Options{Heartbeat: 50 * time.Millisecond})
//	defer srv.Close(ctx)
//	call, _ := srv.StartCall(agentphonetest.Call{})
//	// point the transcript client at srv.URL() with srv.APIKey(), follow call.ID
//	srv.AddTurn(call.ID, agentphonetest.Turn{Role: "agent", Content: "Hello"})
//	srv.EndCall(call.ID, agentphonetest.CallEnd{})
//
// Where SPEC.md marks the provider's behaviour as unsure, Quirks picks the
// other reading. Time comes from Options.Clock; ManualClock lets a test walk
// the whole retry schedule without waiting.
package agentphonetest
