package main

import (
	"bytes"
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/sethvargo/go-envconfig"

	"github.com/agentphone-connector/connector/agentphonetest"
	"github.com/agentphone-connector/connector/natsserver"
)

// bounded runs a command with env and fails unless it exits with code
// within limit; it returns what the command wrote to stderr.
func bounded(t *testing.T, limit time.Duration, code int, env map[string]string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), limit+30*time.Second) // a hang still ends
	defer cancel()
	var stdout, stderr bytes.Buffer
	start := time.Now()
	got := Main(ctx, args, envconfig.MapLookuper(env), &stdout, &stderr)
	if took := time.Since(start); took > limit {
		t.Errorf("%v took %v, more than %v", args, took.Round(time.Millisecond), limit)
	}
	if got != code {
		t.Errorf("%v: exit %d, want %d\nstdout: %s\nstderr: %s", args, got, code, stdout.String(), stderr.String())
	}
	return stderr.String()
}

// closedAddr is a loopback address where nothing listens.
func closedAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln.Close()
	return ln.Addr().String()
}

// silentAddr is a loopback address that accepts connections and never
// answers.
func silentAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln.Addr().String()
}

// Every command that talks to something fails within its bound, with one
// line naming what it could not reach and the variable that points there,
// and exits 1.
func TestCommandsNameWhatTheyCannotReach(t *testing.T) {
	nowhere := closedAddr(t)
	key := map[string]string{"AGENTPHONE_API_KEY": "sk_test_reach", "AGENTPHONE_API_URL": "http://" + nowhere}
	with := func(kv map[string]string, more ...string) map[string]string {
		m := map[string]string{}
		for k, v := range kv {
			m[k] = v
		}
		for i := 0; i+1 < len(more); i += 2 {
			m[more[i]] = more[i+1]
		}
		return m
	}
	for _, tc := range []struct {
		name  string
		args  []string
		env   map[string]string
		limit time.Duration
		want  string
	}{
		{"tail, no connector here", []string{"tail"}, map[string]string{"CONNECTOR_NATS_LISTEN": nowhere}, dialTimeout,
			"cannot reach the journal at nats://" + nowhere + " (CONNECTOR_NATS_LISTEN of the running connector; NATS_URL for another server; is `connector serve` running?)"},
		{"tail, NATS_URL", []string{"tail"}, map[string]string{"NATS_URL": "nats://" + nowhere}, dialTimeout,
			"cannot reach the journal at nats://" + nowhere + " (NATS_URL; is `connector serve` running?)"},
		{"tail, NATS_URL silent", []string{"tail"}, map[string]string{"NATS_URL": "nats://" + silentAddr(t)}, dialTimeout + time.Second,
			"(NATS_URL; is `connector serve` running?)"},
		{"tail, a listener on port 0", []string{"tail"}, map[string]string{"CONNECTOR_NATS_LISTEN": "127.0.0.1:0"}, time.Second,
			`CONNECTOR_NATS_LISTEN="127.0.0.1:0" gives no address to dial; set NATS_URL`},
		{"replay", []string{"replay", "--sink", "kafka", "--since", "1h"}, map[string]string{"NATS_URL": "nats://" + nowhere}, dialTimeout,
			"cannot reach the journal at nats://" + nowhere + " (NATS_URL"},
		{"backfill, no journal", []string{"backfill"}, with(key, "NATS_URL", "nats://"+nowhere), dialTimeout,
			"cannot reach the journal at nats://" + nowhere + " (NATS_URL"},
		{"query, endpoint refuses", []string{"query", "calls"}, map[string]string{"CONNECTOR_BIGQUERY_PROJECT": "demo", "CONNECTOR_BIGQUERY_ENDPOINT": "http://" + nowhere}, dialTimeout,
			"cannot reach BigQuery at http://" + nowhere + " (CONNECTOR_BIGQUERY_ENDPOINT): "},
		{"query, endpoint silent", []string{"query", "calls", "--timeout", "1s"}, map[string]string{"CONNECTOR_BIGQUERY_PROJECT": "demo", "CONNECTOR_BIGQUERY_ENDPOINT": "http://" + silentAddr(t)}, 3 * time.Second,
			"(CONNECTOR_BIGQUERY_ENDPOINT) did not answer within 1s (query --timeout)"},
		{"simulate", []string{"simulate"}, map[string]string{"AGENTPHONE_WEBHOOK_SECRET": "whsec_x", "CONNECTOR_HTTP_ADDR": nowhere}, dialTimeout,
			"cannot reach the connector at http://" + nowhere + "/webhooks/agentphone (CONNECTOR_HTTP_ADDR; is `connector serve` running?)"},
		{"healthcheck", []string{"healthcheck"}, map[string]string{"CONNECTOR_ADMIN_ADDR": nowhere}, 3 * time.Second,
			"cannot reach the admin listener at http://" + nowhere + "/healthz (CONNECTOR_ADMIN_ADDR)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			stderr := bounded(t, tc.limit, 1, tc.env, tc.args...)
			if !strings.Contains(stderr, tc.want) || strings.Count(stderr, "\n") != 1 {
				t.Errorf("stderr %q, want one line with %q", stderr, tc.want)
			}
		})
	}
}

// alongside is the environment of a command run beside s as a newcomer
// runs it: the same data directory and NATS listen address, plus more.
func alongside(s *serving, more ...string) map[string]string {
	env := map[string]string{"CONNECTOR_DATA_DIR": s.dataDir, "CONNECTOR_NATS_LISTEN": strings.TrimPrefix(s.nats, "nats://")}
	for i := 0; i+1 < len(more); i += 2 {
		env[more[i]] = more[i+1]
	}
	return env
}

// With the journal there, each command still names what is missing: the
// stream, the credentials, AgentPhone's API, or a key the API refuses.
func TestCommandsNameWhatIsMissingBehindTheJournal(t *testing.T) {
	s := startServe(t, baseEnv(t))
	api := agentphonetest.Start(t, agentphonetest.Options{APIKey: "sk_test_right"})
	nowhere := closedAddr(t)
	const via = " (CONNECTOR_NATS_LISTEN of the running connector; NATS_URL for another server)"
	for _, tc := range []struct {
		name string
		args []string
		env  map[string]string
		want string
	}{
		{"tail, another stream", []string{"tail"}, alongside(s, "CONNECTOR_JOURNAL_STREAM", "ELSEWHERE"),
			"the journal at " + s.nats + via + " does not let this user read the stream ELSEWHERE (CONNECTOR_JOURNAL_STREAM; "},
		{"replay, another stream", []string{"replay", "--sink", "kafka", "--seq", "1"}, alongside(s, "CONNECTOR_JOURNAL_STREAM", "ELSEWHERE"),
			"the journal stream ELSEWHERE (CONNECTOR_JOURNAL_STREAM) is not on " + s.nats + via},
		{"tail, wrong password", []string{"tail"}, map[string]string{"NATS_URL": s.nats, "NATS_USER": natsserver.SubscriberUser, "NATS_PASSWORD": "wrong"},
			"the journal at " + s.nats + " (NATS_URL) refused the credentials (NATS_USER and NATS_PASSWORD"},
		{"backfill, no API", []string{"backfill"}, alongside(s, "AGENTPHONE_API_KEY", "sk_test_right", "AGENTPHONE_API_URL", "http://"+nowhere),
			"cannot reach AgentPhone's API at http://" + nowhere + " (AGENTPHONE_API_URL): "},
		{"backfill, wrong key", []string{"backfill"}, alongside(s, "AGENTPHONE_API_KEY", "sk_test_wrong", "AGENTPHONE_API_URL", api.URL()),
			"AgentPhone's API at " + api.URL() + " refused the key (AGENTPHONE_API_KEY or AGENTPHONE_API_KEY_FILE)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			stderr := bounded(t, apiCheckWait, 1, tc.env, tc.args...)
			if !strings.Contains(stderr, tc.want) {
				t.Errorf("stderr %q, want %q", stderr, tc.want)
			}
		})
	}
}

// A tail whose journal goes away stops within journalLossMax (sooner when
// the consumer's own requests time out first), and says so.
func TestTailStopsWhenTheJournalIsGone(t *testing.T) {
	s := startServe(t, baseEnv(t))
	logs := newLogLines()
	exit := make(chan int, 1)
	go func() {
		exit <- Main(t.Context(), []string{"tail"}, envconfig.MapLookuper(alongside(s)), &bytes.Buffer{}, logs)
		close(logs.exited)
	}()
	logs.wait(t, "tailing agentphone.> on AGENTPHONE (Ctrl-C to stop)")
	if code := s.shutdown(t); code != 0 {
		t.Fatalf("serve exit %d", code)
	}
	gone := time.Now()
	select {
	case code := <-exit:
		if took := time.Since(gone); code != 1 || took > journalLossMax+5*time.Second {
			t.Errorf("tail exit %d after %v, want 1 within about %v", code, took, journalLossMax)
		}
	case <-time.After(journalLossMax + 30*time.Second):
		t.Fatal("tail still runs with its journal gone")
	}
	if !strings.Contains(logs.String(), "connector: cannot reach the journal at "+s.nats+" (CONNECTOR_NATS_LISTEN") {
		t.Errorf("tail did not say what it lost: %s", logs)
	}
}
