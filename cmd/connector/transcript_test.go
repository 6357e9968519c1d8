package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/sethvargo/go-envconfig"

	connector "github.com/agentphone-connector/connector"
	"github.com/agentphone-connector/connector/agentphonetest"
	"github.com/agentphone-connector/connector/journal/journaltest"
	"github.com/agentphone-connector/connector/natsserver"
)

// liveIDs returns the Nats-Msg-Ids in the journal of a running connector,
// read as a subscriber.
func liveIDs(t *testing.T, s *serving) map[string]int {
	t.Helper()
	nc, err := nats.Connect(s.nats, nats.UserInfo(credentials(t, s.dataDir, natsserver.SubscriberUser)))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	return journaltest.IDs(t, nc, "AGENTPHONE")
}

// turnsOf counts the journaled turns of a call, failing on a repeat.
func turnsOf(t *testing.T, ids map[string]int, callID string) int {
	t.Helper()
	n := 0
	for id, count := range ids {
		if strings.HasPrefix(id, "turn:"+callID+":") {
			if count != 1 {
				t.Fatalf("%s journaled %d times", id, count)
			}
			n++
		}
	}
	return n
}

func waitTurns(t *testing.T, s *serving, callID string, n int) {
	t.Helper()
	deadline := time.After(30 * time.Second)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for turnsOf(t, liveIDs(t, s), callID) < n {
		select {
		case <-deadline:
			t.Fatalf("fewer than %d turns of %s journaled", n, callID)
		case <-tick.C:
		}
	}
}

func transcriptEnv(t *testing.T, srv *agentphonetest.Server) map[string]string {
	env := baseEnv(t)
	for k, v := range map[string]string{
		"AGENTPHONE_TRANSCRIPTS":              "true",
		"AGENTPHONE_API_URL":                  srv.URL(),
		"AGENTPHONE_API_KEY":                  srv.APIKey(),
		"AGENTPHONE_TRANSCRIPT_POLL_INTERVAL": "1s",
		"AGENTPHONE_TRANSCRIPT_HEARTBEAT":     "100ms",
		"AGENTPHONE_TRANSCRIPT_RETRY_MIN":     "10ms",
		"AGENTPHONE_TRANSCRIPT_RETRY_MAX":     "100ms",
	} {
		env[k] = v
	}
	return env
}

// `connector serve` follows a live call, is stopped mid-call, and started
// again on the same data: every turn of the call is journaled once, those
// spoken while it was down included.
func TestServeFollowsLiveCallAcrossRestart(t *testing.T) {
	srv := agentphonetest.Start(t, agentphonetest.Options{Heartbeat: 100 * time.Millisecond})
	call, err := srv.StartCall(agentphonetest.Call{})
	if err != nil {
		t.Fatal(err)
	}
	add := func(contents ...string) {
		for i, c := range contents {
			if _, err := srv.AddTurn(call.ID, agentphonetest.Turn{Role: [...]string{"agent", "user"}[i%2], Content: c}); err != nil {
				t.Fatal(err)
			}
		}
	}
	env := transcriptEnv(t, srv)
	add("Hello", "Where is my order?")
	s := startServe(t, env)
	waitTurns(t, s, call.ID, 2)
	if code := s.shutdown(t); code != 0 {
		t.Fatalf("exit %d: %s", code, s.logs)
	}

	add("It shipped.", "Thanks")
	s = startServe(t, env)
	waitTurns(t, s, call.ID, 4)
	add("Bye")
	if _, err := srv.EndCall(call.ID, agentphonetest.CallEnd{}); err != nil {
		t.Fatal(err)
	}
	waitTurns(t, s, call.ID, 5)
	if code := s.shutdown(t); code != 0 {
		t.Fatalf("exit %d: %s", code, s.logs)
	}
	if n := turnsOf(t, journaltest.IDsIn(t, env["CONNECTOR_DATA_DIR"]), call.ID); n != 5 {
		t.Fatalf("%d turns journaled, want 5", n)
	}
}

// `connector backfill` against a running connector adds the calls whose
// webhooks never came, and finds the others already there.
func TestBackfillCommand(t *testing.T) {
	s := startServe(t, baseEnv(t))
	acct := agentphonetest.Generate(agentphonetest.AccountOptions{Seed: 5, Calls: 6, Day: time.Now().UTC().AddDate(0, 0, -1)})
	srv := agentphonetest.Start(t, agentphonetest.Options{Account: acct,
		Webhooks: []agentphonetest.Webhook{{URL: s.webhooks + "/webhooks/agentphone", Secret: testSecret}}})
	for _, c := range acct.Calls[:2] {
		if _, err := srv.Deliver(agentphonetest.CallEndedEvent(c), agentphonetest.Misbehavior{}); err != nil {
			t.Fatal(err)
		}
	}
	if err := srv.WaitDeliveries(t.Context()); err != nil {
		t.Fatal(err)
	}
	env := baseEnv(t)
	env["NATS_URL"], env["AGENTPHONE_API_URL"], env["AGENTPHONE_API_KEY"] = s.nats, srv.URL(), srv.APIKey()
	env["NATS_USER"], env["NATS_PASSWORD"] = credentials(t, s.dataDir, natsserver.ConnectorUser)
	env["CONNECTOR_BACKFILL_SETTLE"] = "0s"
	for _, want := range []string{"calls 6 4 2 0", "calls 6 0 6 0"} {
		code, stdout, stderr := run(t, env, "backfill", "--since", "72h")
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		if !strings.Contains(strings.Join(strings.Fields(stdout), " "), want) || !strings.Contains(stdout, "finished") {
			t.Fatalf("report does not say %q:\n%s", want, stdout)
		}
	}
	ids := liveIDs(t, s)
	calls := 0
	for id, n := range ids {
		if n != 1 {
			t.Errorf("%s journaled %d times", id, n)
		}
		if strings.HasPrefix(id, connector.CallEventID("")) {
			calls++
		}
	}
	if calls != 4 {
		t.Errorf("%d calls backfilled, want 4", calls)
	}
}

func TestPullSourceConfiguration(t *testing.T) {
	keyFile := filepath.Join(t.TempDir(), "key")
	if err := os.WriteFile(keyFile, []byte("sk_live_fromfile\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		env  map[string]string
		want string // "" for a valid configuration
	}{
		{"transcripts need the key", map[string]string{"AGENTPHONE_TRANSCRIPTS": "true"}, "AGENTPHONE_API_KEY"},
		{"periodic backfill needs the key", map[string]string{"CONNECTOR_BACKFILL_INTERVAL": "1h"}, "AGENTPHONE_API_KEY"},
		{"the key from a file", map[string]string{"AGENTPHONE_TRANSCRIPTS": "true", "AGENTPHONE_API_KEY_FILE": keyFile}, ""},
		{"a missing key file", map[string]string{"AGENTPHONE_API_KEY_FILE": keyFile + ".nope"}, "AGENTPHONE_API_KEY_FILE"},
		{"a bad API URL", map[string]string{"AGENTPHONE_API_URL": "api.agentphone.ai"}, "AGENTPHONE_API_URL"},
		{"backfill past the dedupe window", map[string]string{"CONNECTOR_BACKFILL_SINCE": "96h"}, "CONNECTOR_BACKFILL_SINCE"},
		{"off by default", map[string]string{}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := baseEnv(t)
			for k, v := range tt.env {
				env[k] = v
			}
			cfg, err := loadConfig(t.Context(), envconfig.MapLookuper(env))
			switch {
			case tt.want == "" && err != nil:
				t.Fatal(err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("error %v does not name %s", err, tt.want)
			}
			if tt.name == "the key from a file" && cfg.API.Key.Reveal() != "sk_live_fromfile" {
				t.Fatal("the key file was not read")
			}
		})
	}
	env := map[string]string{"AGENTPHONE_API_KEY": "sk_live_verysecret"}
	for _, args := range [][]string{{"config"}, {"config", "--markdown"}} {
		_, stdout, _ := run(t, env, args...)
		if strings.Contains(stdout, "verysecret") || !strings.Contains(stdout, "AGENTPHONE_TRANSCRIPT_MAX_STREAMS") {
			t.Fatalf("%v: the key printed, or the transcript settings missing:\n%s", args, stdout)
		}
	}
}
