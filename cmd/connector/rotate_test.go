package main

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// A route whose secret variable is set empty is held: it answers 503, which
// AgentPhone retries, so a secret can be rotated with no delivery answered
// 401. Once the new secret is set, the same delivery is journaled.
func TestHeldRouteAnswers503UntilItsSecretIsSet(t *testing.T) {
	env := baseEnv(t)
	env["AGENTPHONE_WEBHOOK_ROUTES"] = "green"
	env["AGENTPHONE_WEBHOOK_SECRET_GREEN"] = ""
	s := startServe(t, env)
	s.logs.wait(t, "route secret is empty: the route answers 503 until it is set")
	req := signedRequest(s.webhooks, "whd_held_1", fixture(t, "sms_inbound.json"), time.Now())
	req.URL.Path = "/webhooks/agentphone/green"
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
		t.Errorf("held route: %d, Retry-After %q; want 503 with Retry-After", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	if code := s.shutdown(t); code != 0 {
		t.Fatalf("exit %d: %s", code, s.logs)
	}

	env["AGENTPHONE_WEBHOOK_SECRET_GREEN"] = testSecret
	env["CONNECTOR_NATS_LISTEN"] = "127.0.0.1:0"
	s = startServe(t, env)
	req = signedRequest(s.webhooks, "whd_held_1", fixture(t, "sms_inbound.json"), time.Now())
	req.URL.Path = "/webhooks/agentphone/green"
	if resp, err = http.DefaultClient.Do(req); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("route with its secret: %d, want 200", resp.StatusCode)
	}
	if code := s.shutdown(t); code != 0 {
		t.Fatalf("exit %d: %s", code, s.logs)
	}
}

// An extra route whose secret variable is not set at all is a mistake, and
// start-up says so.
func TestRouteWithUnsetSecretIsRefused(t *testing.T) {
	env := baseEnv(t)
	env["AGENTPHONE_WEBHOOK_ROUTES"] = "green"
	code, _, stderr := run(t, env, "serve")
	if code != 1 || !strings.Contains(stderr, "AGENTPHONE_WEBHOOK_SECRET_GREEN") {
		t.Errorf("exit %d, %q; want 1 naming AGENTPHONE_WEBHOOK_SECRET_GREEN", code, stderr)
	}
}
