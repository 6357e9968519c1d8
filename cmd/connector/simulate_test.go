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
	if ok.Load() != 5 || bad.Load() != 0 {
		t.Errorf("the endpoint verified %d webhooks and rejected %d, want 5 and 0", ok.Load(), bad.Load())
	}
}
