package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sethvargo/go-envconfig"

	"github.com/agentphone-connector/connector/sources/webhook"
)

func TestSimulateCommand(t *testing.T) {
	const secret = "whsec_cmd_test"
	v := webhook.NewVerifier([]webhook.Secret{secret}, 5*time.Minute)
	var ok, bad atomic.Int64
	endpoint := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if v.Verify(body, r.Header.Get("X-Webhook-Signature"), r.Header.Get("X-Webhook-Timestamp"), time.Now()) != nil {
			bad.Add(1)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		ok.Add(1)
	}))
	defer endpoint.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	day := []string{"--calls", "2", "--messages", "3", "--rate", "0", "--duplicates", "0", "--seed", "7", "--day", "2026-03-02"}

	tests := []struct {
		name   string
		args   []string
		env    map[string]string
		code   int
		stdout string
		stderr string
	}{
		{
			name: "sends a day", code: 0, stdout: "5 delivered, 0 rejected",
			args: []string{"simulate", "--url", endpoint.URL + "/webhooks/agentphone", "--calls", "2", "--messages", "3",
				"--rate", "0", "--duplicates", "0", "--seed", "7", "--day", "2026-03-02"},
			env: map[string]string{"AGENTPHONE_WEBHOOK_SECRET": secret + ",whsec_next"},
		},
		{
			name: "to CONNECTOR_HTTP_ADDR", code: 0, stdout: "5 delivered, 0 rejected",
			args: append([]string{"simulate"}, day...),
			env:  map[string]string{"AGENTPHONE_WEBHOOK_SECRET": secret, "CONNECTOR_HTTP_ADDR": endpoint.Listener.Addr().String()},
		},
		{
			name: "nothing at CONNECTOR_HTTP_ADDR", code: 1,
			stderr: "cannot reach the connector at " + closed.URL + "/webhooks/agentphone (CONNECTOR_HTTP_ADDR; is `connector serve` running?)",
			args:   append([]string{"simulate"}, day...),
			env:    map[string]string{"AGENTPHONE_WEBHOOK_SECRET": secret, "CONNECTOR_HTTP_ADDR": closed.Listener.Addr().String()},
		},
		{
			name: "nothing at --url", code: 1, stderr: "(simulate --url; is `connector serve` running?)",
			args: append([]string{"simulate", "--url", closed.URL}, day...),
			env:  map[string]string{"AGENTPHONE_WEBHOOK_SECRET": secret},
		},
		{
			name: "another secret than the connector's", code: 1, stdout: "5 answered other than expected",
			stderr: "deliveries answered other than expected: 5 of 5 deliveries",
			args:   append([]string{"simulate", "--url", endpoint.URL + "/webhooks/agentphone"}, day...),
			env:    map[string]string{"AGENTPHONE_WEBHOOK_SECRET": "whsec_not_the_connectors"},
		},
		{
			name: "no secret", code: 1, stderr: "AGENTPHONE_WEBHOOK_SECRET",
			args: []string{"simulate", "--url", endpoint.URL},
		},
		{
			name: "bad day", code: 2, stderr: "--day",
			args: []string{"simulate", "--day", "yesterday"}, env: map[string]string{"AGENTPHONE_WEBHOOK_SECRET": secret},
		},
		{
			name: "bad fraction", code: 1, stderr: "duplicates",
			args: []string{"simulate", "--duplicates", "2"}, env: map[string]string{"AGENTPHONE_WEBHOOK_SECRET": secret},
		},
		{
			name: "unknown flag", code: 2, stderr: "usage",
			args: []string{"simulate", "--nope"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr strings.Builder
			code := Main(ctx, tt.args, envconfig.MapLookuper(tt.env), &stdout, &stderr)
			if code != tt.code || !strings.Contains(stdout.String(), tt.stdout) || !strings.Contains(stderr.String(), tt.stderr) {
				t.Errorf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tt.code, stdout.String(), stderr.String())
			}
		})
	}
	if ok.Load() != 10 || bad.Load() != 5 {
		t.Errorf("the endpoint verified %d webhooks and rejected %d, want 10 and 5", ok.Load(), bad.Load())
	}
}
