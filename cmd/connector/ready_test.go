package main

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// /readyz is 503, saying why, while no route has a webhook secret (every
// delivery would be answered 503); a route emptied on purpose for a
// rotation keeps the connector ready, so a rollout goes through.
func TestReadyzWithoutSecret(t *testing.T) {
	for _, tc := range []struct {
		name   string
		set    bool
		code   int
		reason string
	}{
		{"secret unset", false, http.StatusServiceUnavailable, "AGENTPHONE_WEBHOOK_SECRET"},
		{"secret emptied for a rotation", true, http.StatusOK, "ready"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := baseEnv(t)
			delete(env, "AGENTPHONE_WEBHOOK_SECRET")
			if tc.set {
				env["AGENTPHONE_WEBHOOK_SECRET"] = ""
			}
			s := startServe(t, env)
			resp, err := http.Get(s.admin + "/readyz")
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var body struct{ Status string }
			if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tc.code || !strings.Contains(body.Status, tc.reason) {
				t.Fatalf("/readyz %d %q, want %d with %q", resp.StatusCode, body.Status, tc.code, tc.reason)
			}
		})
	}
}
