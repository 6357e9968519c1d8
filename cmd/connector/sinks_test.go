package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/sethvargo/go-envconfig"
	"github.com/twmb/franz-go/pkg/kfake"

	connector "github.com/agentphone-connector/connector"
	"github.com/agentphone-connector/connector/natsserver"
	"github.com/agentphone-connector/connector/sinks"
	"github.com/agentphone-connector/connector/sinks/sinktest"
)

// testEnv is a configuration environment with the journal in memory.
func testEnv(t *testing.T, kv map[string]string) envconfig.Lookuper {
	m := map[string]string{"CONNECTOR_DATA_DIR": t.TempDir(), "CONNECTOR_JOURNAL_MEMORY": "true"}
	for k, v := range kv {
		m[k] = v
	}
	return envconfig.MapLookuper(m)
}

func TestConfigSinks(t *testing.T) {
	cases := []struct {
		name    string
		env     map[string]string
		wantErr string
	}{
		{"no sink", nil, ""},
		{"kafka", map[string]string{"CONNECTOR_KAFKA_BROKERS": "127.0.0.1:9092", "CONNECTOR_KAFKA_TOPIC": "agentphone.{kind}"}, ""},
		{"kafka bad compression", map[string]string{"CONNECTOR_KAFKA_BROKERS": "127.0.0.1:9092", "CONNECTOR_KAFKA_COMPRESSION": "brotli"}, "CONNECTOR_KAFKA_COMPRESSION"},
		{"kafka sasl without password", map[string]string{"CONNECTOR_KAFKA_BROKERS": "127.0.0.1:9092", "CONNECTOR_KAFKA_SASL_MECHANISM": "PLAIN", "CONNECTOR_KAFKA_SASL_USERNAME": "u"}, "CONNECTOR_KAFKA_SASL_PASSWORD"},
		{"dead letters under the journal", map[string]string{"CONNECTOR_DLQ_SUBJECT_PREFIX": "agentphone.dlq"}, "overlap the journal"},
		{"nats sink into the journal", map[string]string{"CONNECTOR_NATS_SINK_URL": "nats://127.0.0.1:4222"}, "would be journaled again"},
		{"nats sink elsewhere", map[string]string{"CONNECTOR_NATS_SINK_URL": "nats://events.internal:4222"}, ""},
		{"ack wait under write timeout", map[string]string{"CONNECTOR_SINK_ACK_WAIT": "10s"}, "CONNECTOR_SINK_ACK_WAIT"},
		{"kafka kinds", map[string]string{"CONNECTOR_KAFKA_BROKERS": "127.0.0.1:9092", "CONNECTOR_KAFKA_KINDS": "message,call_ended"}, ""},
		{"kafka unknown kind", map[string]string{"CONNECTOR_KAFKA_BROKERS": "127.0.0.1:9092", "CONNECTOR_KAFKA_KINDS": "messages"}, `CONNECTOR_KAFKA_KINDS="messages": "messages" is not a kind`},
		{"bigquery kinds", map[string]string{"CONNECTOR_BIGQUERY_PROJECT": "p", "CONNECTOR_BIGQUERY_KINDS": "call_ended,transcript_turn"}, ""},
		{"nats filter", map[string]string{"CONNECTOR_NATS_SINK_URL": "nats://events.internal:4222", "CONNECTOR_NATS_SINK_KINDS": "call_ended", "CONNECTOR_NATS_SINK_FILTER": "agentphone.message.*.whatsapp.>"}, ""},
		{"nats filter outside the journal", map[string]string{"CONNECTOR_NATS_SINK_URL": "nats://events.internal:4222", "CONNECTOR_NATS_SINK_FILTER": "events.>"}, "not under the journal's subjects agentphone.>"},
		{"nats filter overlapping a kind", map[string]string{"CONNECTOR_NATS_SINK_URL": "nats://events.internal:4222", "CONNECTOR_NATS_SINK_KINDS": "message", "CONNECTOR_NATS_SINK_FILTER": "agentphone.message.*.sms.>"}, `CONNECTOR_NATS_SINK_KINDS="message", CONNECTOR_NATS_SINK_FILTER="agentphone.message.*.sms.>": the filters agentphone.message.> and agentphone.message.*.sms.> overlap`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := loadConfig(context.Background(), testEnv(t, c.env))
			switch {
			case c.wantErr == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case c.wantErr != "" && (err == nil || !strings.Contains(err.Error(), c.wantErr)):
				t.Fatalf("error %v, want one mentioning %q", err, c.wantErr)
			}
		})
	}
}

// TestConfigListsSinkVariables checks that `connector config` lists the
// sinks' variables and shows the Kafka password only as set.
func TestConfigListsSinkVariables(t *testing.T) {
	var out bytes.Buffer
	env := envconfig.MapLookuper(map[string]string{"CONNECTOR_KAFKA_SASL_PASSWORD": "hunter2"})
	if code := Main(context.Background(), []string{"config"}, env, &out, &out); code != 0 {
		t.Fatalf("exit %d: %s", code, out.String())
	}
	for _, v := range []string{"CONNECTOR_KAFKA_BROKERS", "CONNECTOR_KAFKA_TOPIC", "CONNECTOR_NATS_SINK_URL", "CONNECTOR_SINK_RETRY_MAX", "CONNECTOR_DLQ_STREAM"} {
		if !strings.Contains(out.String(), v) {
			t.Errorf("%s not listed", v)
		}
	}
	if strings.Contains(out.String(), "hunter2") {
		t.Error("the Kafka password is printed")
	}
}

// TestConfigShowsRoutes checks that `connector config` says what each
// enabled sink receives.
func TestConfigShowsRoutes(t *testing.T) {
	var out bytes.Buffer
	env := envconfig.MapLookuper(map[string]string{
		"CONNECTOR_KAFKA_BROKERS": "127.0.0.1:9092", "CONNECTOR_KAFKA_KINDS": "message,call_ended",
		"CONNECTOR_BIGQUERY_PROJECT": "p",
	})
	if code := Main(context.Background(), []string{"config"}, env, &out, &out); code != 0 {
		t.Fatalf("exit %d: %s", code, out.String())
	}
	for _, want := range []string{"kafka     agentphone.message.> agentphone.call_ended.>", "bigquery  every event"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("no line %q in:\n%s", want, out.String()[strings.Index(out.String(), "SINK"):])
		}
	}
}

// TestStartSinksKafka wires the Kafka sink from the configuration, delivers
// through it the kinds it asks for and shows its state and filter on GET
// /sinks.
func TestStartSinksKafka(t *testing.T) {
	kc, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(2, "agentphone.events"))
	if err != nil {
		t.Fatal(err)
	}
	defer kc.Close()
	j := sinktest.StartJournal(t)
	cfg, err := loadConfig(context.Background(), testEnv(t, map[string]string{
		"CONNECTOR_KAFKA_BROKERS": strings.Join(kc.ListenAddrs(), ","), "CONNECTOR_KAFKA_BATCH_TIMEOUT": "10ms",
		"CONNECTOR_KAFKA_KINDS": "message",
	}))
	if err != nil {
		t.Fatal(err)
	}
	r, err := startSinks(context.Background(), cfg, j.NC, prometheus.NewRegistry(), sinktest.Logger(t))
	if err != nil {
		t.Fatal(err)
	}
	events := sinktest.MixedEvents("wire", 20, 4)
	j.Append(t, events...)
	want := uint64(len(sinktest.OfKinds(events, "message")))
	var st []sinks.Status
	sinktest.Eventually(t, 30*time.Second, func() bool {
		rec := httptest.NewRecorder()
		r.ServeHTTP(rec, httptest.NewRequest("GET", "/sinks", nil))
		var body struct{ Sinks []sinks.Status }
		_ = json.Unmarshal(rec.Body.Bytes(), &body)
		st = body.Sinks
		return len(st) == 1 && st[0].Sink == "kafka" && st[0].Role == sinks.RoleHolder && st[0].Delivered == want && st[0].Pending == 0 &&
			strings.Join(st[0].Filter, " ") == "agentphone.message.>"
	}, func() string { return "GET /sinks shows " + toJSON(st) })
	if err := stopSinks(r, 10*time.Second, sinktest.Logger(t)); err != nil {
		t.Fatal(err)
	}
}

func toJSON(v any) string { b, _ := json.Marshal(v); return string(b) }

// TestReplay re-drives one sink from a sequence and from a time, leaving
// the other alone.
func TestReplay(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	ns, err := natsserver.Start(ctx, natsserver.Config{Listen: "127.0.0.1:0", MaxPayload: 8 << 20, StoreDir: dir, StartWait: 20 * time.Second}, sinktest.Logger(t))
	if err != nil {
		t.Fatal(err)
	}
	defer ns.Shutdown(ctx)
	j := sinktest.StartJournalOn(t, ns)
	a, b := sinktest.NewMemory(), sinktest.NewMemory()
	js, _ := j.JetStream(t)
	r, err := sinks.New(js, j.Config.Stream, sinktest.Config(), []sinks.Sink{
		{Name: "a", Writer: a.Writer(), Batch: sinks.Batching{Size: 10, Wait: 10 * time.Millisecond}},
		{Name: "b", Writer: b.Writer(), Batch: sinks.Batching{Size: 10, Wait: 10 * time.Millisecond}},
	}, sinks.Settings{Logger: sinktest.Logger(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close(ctx)
	if err := r.Start(ctx); err != nil {
		t.Fatal(err)
	}
	before := time.Now()
	j.Append(t, sinktest.Events("replay", 10, 2)...)
	waitCount(t, a, 10)
	waitCount(t, b, 10)

	user, password := credentials(t, dir, natsserver.ConnectorUser)
	env := envconfig.MapLookuper(map[string]string{"NATS_URL": ns.ClientURL(), "NATS_USER": user, "NATS_PASSWORD": password})
	cases := []struct {
		name  string
		args  []string
		code  int
		wantA int
	}{
		{"from a sequence", []string{"replay", "--sink", "a", "--seq", "6"}, 0, 15},
		{"from a time", []string{"replay", "--sink", "a", "--since", before.Add(-time.Second).UTC().Format(time.RFC3339Nano)}, 0, 25},
		{"unknown sink", []string{"replay", "--sink", "nope", "--seq", "1"}, 1, 25},
		{"both positions", []string{"replay", "--sink", "a", "--seq", "1", "--since", "1h"}, 2, 25},
		{"no position", []string{"replay", "--sink", "a"}, 2, 25},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var out bytes.Buffer
			if code := Main(ctx, c.args, env, &out, &out); code != c.code {
				t.Fatalf("exit %d, want %d: %s", code, c.code, out.String())
			}
			waitCount(t, a, c.wantA)
		})
	}
	if n := len(b.Received()); n != 10 {
		t.Fatalf("sink b received %d events, want 10: a replay of a must not touch it", n)
	}
}

func waitCount(t *testing.T, m *sinktest.Memory, n int) {
	t.Helper()
	sinktest.Eventually(t, 30*time.Second, func() bool { return len(m.Received()) == n },
		func() string { return "received " + toJSON(len(m.Received())) + ", want " + toJSON(n) })
}

// TestKindsHelpNamesEveryKind keeps the help of the *_KINDS variables in
// step with the catalogue.
func TestKindsHelpNamesEveryKind(t *testing.T) {
	n := 0
	for _, v := range envVars() {
		if !strings.HasSuffix(v.Name, "_KINDS") {
			continue
		}
		n++
		for _, k := range connector.Kinds() {
			if !strings.Contains(v.Help, k.Token) {
				t.Errorf("%s: the help does not name the kind %s", v.Name, k.Token)
			}
		}
	}
	if n != 3 {
		t.Fatalf("%d variables *_KINDS, want one per sink (3)", n)
	}
}
