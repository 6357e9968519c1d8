package main

import (
	"strings"
	"testing"
)

// Every problem of the configuration is reported at once, by each command
// that reads it, each line naming the variables, their values and the rule.
func TestInvalidConfigurationListsEveryProblem(t *testing.T) {
	env := map[string]string{
		"CONNECTOR_HTTP_ADDR":             "nowhere",
		"CONNECTOR_LOG_LEVEL":             "loud",
		"CONNECTOR_JOURNAL_MAX_AGE":       "1h",
		"AGENTPHONE_WEBHOOK_ROUTES":       "sales,Bad Name",
		"CONNECTOR_JOURNAL_REPLICAS":      "3",
		"AGENTPHONE_WEBHOOK_SECRET_OTHER": "whsec_unused",
		"CONNECTOR_MAX_BODY_BYTES":        "abc",
		"CONNECTOR_SHUTDOWN_TIMEOUT":      "30",
		"CONNECTOR_PPROF":                 "yes please",
	}
	want := []string{
		`CONNECTOR_MAX_BODY_BYTES="abc": not a whole number`,
		`CONNECTOR_SHUTDOWN_TIMEOUT="30": not a duration`,
		`CONNECTOR_PPROF="yes please": not true or false`,
		`CONNECTOR_HTTP_ADDR="nowhere": not host:port`,
		`CONNECTOR_LOG_LEVEL="loud": must be debug, info, warn or error`,
		`CONNECTOR_JOURNAL_MAX_AGE="1h", CONNECTOR_DEDUPE_WINDOW (not set, default 72h): the max age must be at least the dedupe window`,
		`AGENTPHONE_WEBHOOK_ROUTES="sales,Bad Name": "Bad Name" is not a route name`,
		`AGENTPHONE_WEBHOOK_SECRET_SALES (not set): route "sales" has no secret`,
		`CONNECTOR_JOURNAL_REPLICAS="3": the embedded server is a single node`,
	}
	for _, cmd := range []string{"serve", "config", "tail", "replay", "backfill", "query"} {
		t.Run(cmd, func(t *testing.T) {
			args := map[string][]string{"replay": {"replay", "--sink", "kafka", "--seq", "1"}, "query": {"query", "calls"}}[cmd]
			if args == nil {
				args = []string{cmd}
			}
			code, _, stderr := run(t, env, args...)
			if code != 1 {
				t.Fatalf("exit %d, want 1: %s", code, stderr)
			}
			for _, w := range want {
				if !strings.Contains(stderr, w) {
					t.Errorf("the message lacks %q:\n%s", w, stderr)
				}
			}
			if n := strings.Count(stderr, "\n  - "); n != len(want) {
				t.Errorf("%d problems listed, want %d:\n%s", n, len(want), stderr)
			}
			if strings.Contains(stderr, "MaxBodyBytes") || strings.Contains(stderr, "strconv") {
				t.Errorf("the message names Go's fields or functions:\n%s", stderr)
			}
		})
	}
}

// A problem shows the values of the variables it names, but never a secret
// or a password in a URL.
func TestConfigProblemsMaskSecrets(t *testing.T) {
	env := map[string]string{
		"AGENTPHONE_WEBHOOK_ROUTES":       "sales",
		"AGENTPHONE_WEBHOOK_SECRET_SALES": "whsec_salessecret",
		"AGENTPHONE_API_KEY":              "sk_live_apisecret",
		"AGENTPHONE_API_TIMEOUT":          "1ms",
		"CONNECTOR_NATS_SINK_URL":         "nats://user:natspassword@127.0.0.1:4222",
		"CONNECTOR_NATS_SINK_SUBJECT":     "agentphone.{kind}",
		"CONNECTOR_NATS_LISTEN":           "127.0.0.1:4222",
		"CONNECTOR_KAFKA_BROKERS":         "b:9092",
		"CONNECTOR_KAFKA_SASL_MECHANISM":  "PLAIN",
		"CONNECTOR_KAFKA_SASL_PASSWORD":   "kafkasecret",
	}
	code, _, stderr := run(t, env, "serve")
	if code != 1 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, w := range []string{
		`CONNECTOR_NATS_SINK_URL="nats://redacted@127.0.0.1:4222", CONNECTOR_NATS_SINK_SUBJECT="agentphone.{kind}": the journal's own server`,
		`CONNECTOR_KAFKA_SASL_USERNAME (not set), CONNECTOR_KAFKA_SASL_PASSWORD=(set): required with a SASL mechanism`,
		`AGENTPHONE_API_TIMEOUT="1ms": must be at least 1s`,
	} {
		if !strings.Contains(stderr, w) {
			t.Errorf("the message lacks %q:\n%s", w, stderr)
		}
	}
	for _, secret := range []string{"salessecret", "apisecret", "natspassword", "kafkasecret"} {
		if strings.Contains(stderr, secret) {
			t.Fatalf("a problem showed a secret:\n%s", stderr)
		}
	}
}

// A default that follows another setting never fails because of a setting
// the user did not make; a conflict the user made is still reported.
func TestDerivedDefaultsNeverConflict(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  map[string]string
		want string // "" when valid
	}{
		{name: "short dedupe window", env: map[string]string{"CONNECTOR_DEDUPE_WINDOW": "1h"}},
		{name: "dedupe window under backfill's hour", env: map[string]string{"CONNECTOR_DEDUPE_WINDOW": "30m"}},
		{name: "long dedupe window", env: map[string]string{"CONNECTOR_DEDUPE_WINDOW": "200h"}},
		{name: "slow sink writes", env: map[string]string{"CONNECTOR_SINK_WRITE_TIMEOUT": "90s"}},
		{name: "long first sink retry", env: map[string]string{"CONNECTOR_SINK_RETRY_MIN": "45s"}},
		{name: "long first transcript retry", env: map[string]string{"AGENTPHONE_TRANSCRIPT_RETRY_MIN": "2m"}},
		{name: "journal subjects where the dead letters were", env: map[string]string{"CONNECTOR_JOURNAL_SUBJECT_PREFIX": "agentphone-dlq"}},
		{name: "large bodies", env: map[string]string{"CONNECTOR_MAX_BODY_BYTES": "8388608"}},
		{
			name: "both set, in conflict",
			env:  map[string]string{"CONNECTOR_DEDUPE_WINDOW": "1h", "CONNECTOR_BACKFILL_SINCE": "2h"},
			want: `CONNECTOR_BACKFILL_SINCE="2h", CONNECTOR_DEDUPE_WINDOW="1h": backfill must not look back past the dedupe window`,
		},
		{
			name: "bodies too large for the embedded server",
			env:  map[string]string{"CONNECTOR_MAX_BODY_BYTES": "50000000"},
			want: `CONNECTOR_MAX_BODY_BYTES="50000000", CONNECTOR_NATS_MAX_PAYLOAD (not set, default 8388608): an event of the largest body needs`,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := run(t, tc.env, "config")
			switch {
			case tc.want == "" && code != 0:
				t.Fatalf("exit %d: %s", code, stderr)
			case tc.want != "" && (code != 1 || !strings.Contains(stderr, tc.want)):
				t.Fatalf("exit %d, want 1 with %q:\n%s", code, tc.want, stderr)
			}
		})
	}
}

// connector config shows each named route's secret variable as set or not,
// and fails on an invalid configuration with the messages serve gives.
func TestConfigShowsRouteSecretsAndValidates(t *testing.T) {
	env := map[string]string{
		"AGENTPHONE_WEBHOOK_ROUTES":       "sales,support-eu",
		"AGENTPHONE_WEBHOOK_SECRET_SALES": "whsec_salessecret",
	}
	code, stdout, stderr := run(t, env, "config")
	if code != 1 || !strings.Contains(stderr, `AGENTPHONE_WEBHOOK_SECRET_SUPPORT_EU (not set): route "support-eu" has no secret`) {
		t.Fatalf("exit %d, want 1 naming the missing secret:\n%s", code, stderr)
	}
	_, _, serveErr := run(t, env, "serve")
	if serveErr != stderr {
		t.Errorf("config and serve report differently:\nconfig: %s\nserve:  %s", stderr, serveErr)
	}
	for _, line := range []string{"AGENTPHONE_WEBHOOK_SECRET_SALES - (set) ", "AGENTPHONE_WEBHOOK_SECRET_SUPPORT_EU - "} {
		if !strings.Contains(collapse(stdout), line) {
			t.Errorf("config does not show %q:\n%s", line, stdout)
		}
	}
	env["AGENTPHONE_WEBHOOK_SECRET_SUPPORT_EU"] = ""
	if code, stdout, stderr := run(t, env, "config"); code != 0 || !strings.Contains(collapse(stdout), "AGENTPHONE_WEBHOOK_SECRET_SUPPORT_EU - (set, empty) ") {
		t.Errorf("a held route: exit %d\n%s\n%s", code, stdout, stderr)
	}
}

// collapse turns runs of spaces into one, to match table rows.
func collapse(s string) string { return strings.Join(strings.Fields(s), " ") + " " }
