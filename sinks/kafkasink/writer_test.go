package kafkasink_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kmsg"

	connector "github.com/agentphone-connector/connector"
	"github.com/agentphone-connector/connector/sinks"
	"github.com/agentphone-connector/connector/sinks/kafkasink"
	"github.com/agentphone-connector/connector/sinks/sinktest"
)

func write(t *testing.T, cfg kafkasink.Config, events []*connector.Event) error {
	t.Helper()
	w := newWriter(t, cfg)
	defer w.Close(context.Background())
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	return w.Write(ctx, events)
}

// TestRecords writes events and reads them back with kafka-go's reader:
// key, CloudEvents headers and value as the binding says.
func TestRecords(t *testing.T) {
	full := sinktest.Events("rec", 1, 1)[0]
	noData := sinktest.Events("raw", 1, 1)[0]
	noData.Data, noData.Status, noData.Subject, noData.Raw = nil, connector.StatusInvalidJSON, "", []byte("not json at all")
	cases := []struct {
		name    string
		mode    string
		event   *connector.Event
		key     string
		headers map[string]string
		value   func(e *connector.Event, v []byte) bool
	}{
		{"binary", kafkasink.ModeBinary, full, full.Subject, map[string]string{
			"ce_id": full.ID, "ce_type": "ai.agentphone.agent.message", "ce_source": full.Source, "ce_specversion": "1.0",
			"ce_time": full.Time.UTC().Format(time.RFC3339Nano), "ce_subject": full.Subject, "ce_dataschema": full.DataSchema,
			"ce_agentid": "agent-1", "ce_conversationid": full.Subject, "ce_channel": "sms", "ce_direction": "inbound",
			"ce_normstatus": "ok", "content-type": "application/json",
		}, func(e *connector.Event, v []byte) bool { return string(v) == string(e.Data) }},
		{"binary without data", kafkasink.ModeBinary, noData, "", map[string]string{
			"ce_id": noData.ID, "ce_normstatus": "invalid_json", "content-type": "application/octet-stream", "ce_subject": "",
		}, func(e *connector.Event, v []byte) bool { return string(v) == "not json at all" }},
		{"structured", kafkasink.ModeStructured, full, full.Subject, map[string]string{
			"content-type": connector.ContentType, "ce_id": "",
		}, func(e *connector.Event, v []byte) bool {
			got, err := connector.Unmarshal(v)
			return err == nil && got.ID == e.ID && string(got.Raw) == string(e.Raw)
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			k := startCluster(t, kfake.SeedTopics(testPartitions, testTopic))
			cfg := testConfig(k)
			cfg.Mode = c.mode
			if err := write(t, cfg, []*connector.Event{c.event}); err != nil {
				t.Fatal(err)
			}
			got := readAll(t, cfg.Brokers, testTopic)
			if len(got) != 1 {
				t.Fatalf("%d records, want 1", len(got))
			}
			m := got[0]
			if string(m.Key) != c.key {
				t.Errorf("key %q, want %q", m.Key, c.key)
			}
			for h, want := range c.headers {
				if v := header(m, h); v != want {
					t.Errorf("header %s = %q, want %q", h, v, want)
				}
			}
			if !c.value(c.event, m.Value) {
				t.Errorf("value %.200s", m.Value)
			}
		})
	}
}

// TestPermanentErrors: what Kafka will never take is Permanent (so
// dead-lettered), event by event; the rest of the batch is written.
func TestPermanentErrors(t *testing.T) {
	poison := func(events []*connector.Event) { (&target{}).Poison(events[1]) }
	cases := []struct {
		name      string
		topics    []string // seeded
		edit      func(*kafkasink.Config)
		events    func([]*connector.Event)
		permanent []bool // per event of the batch; others nil
		want      error
	}{
		{"too large for the writer", []string{testTopic}, func(c *kafkasink.Config) { c.BatchBytes = 4096 },
			func(e []*connector.Event) { e[1].Data = json.RawMessage(`"` + strings.Repeat("x", 8000) + `"`) },
			[]bool{false, true, false}, kafkasink.ErrTooLarge},
		{"too large for the broker", []string{testTopic}, func(*kafkasink.Config) {}, poison,
			[]bool{false, true, false}, kafka.MessageSizeTooLarge},
		{"unknown topic, creation off", nil, func(*kafkasink.Config) {}, func([]*connector.Event) {},
			[]bool{true, true, true}, kafka.UnknownTopicOrPartition},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var opts []kfake.Opt
			if c.topics != nil {
				opts = append(opts, kfake.SeedTopics(testPartitions, c.topics...))
			}
			k := startCluster(t, opts...)
			cfg := testConfig(k)
			c.edit(&cfg)
			events := sinktest.Events("perm", 3, 1)
			c.events(events)
			err := write(t, cfg, events)
			for i, perm := range c.permanent {
				e := connector.ErrorAt(err, i)
				switch {
				case perm && (!connector.IsPermanent(e) || !errors.Is(e, c.want)):
					t.Errorf("event %d: %v, want permanent %v", i, e, c.want)
				case !perm && e != nil:
					t.Errorf("event %d: %v, want written", i, e)
				}
			}
		})
	}
}

// TestAuthorizationFailed dead-letters, as permanent, events for a topic the
// user may not write to.
func TestAuthorizationFailed(t *testing.T) {
	k := startCluster(t, kfake.SeedTopics(testPartitions, testTopic), kfake.EnableSASL(), kfake.EnableACLs(),
		kfake.Superuser("PLAIN", "admin", "admin"),
		kfake.User("PLAIN", "reader", "pw", kfake.ACL{Resource: kmsg.ACLResourceTypeTopic, Name: testTopic,
			Pattern: kmsg.ACLResourcePatternTypeLiteral, Operation: kmsg.ACLOperationDescribe, Allow: true}))
	cfg := testConfig(k)
	cfg.SASLMechanism, cfg.SASLUsername, cfg.SASLPassword = "PLAIN", "reader", "pw"
	err := write(t, cfg, sinktest.Events("acl", 2, 1))
	for i := range 2 {
		if e := connector.ErrorAt(err, i); !connector.IsPermanent(e) || !errors.Is(e, kafka.TopicAuthorizationFailed) {
			t.Fatalf("event %d: %v, want permanent topic authorization failure", i, e)
		}
	}
}

func TestSASL(t *testing.T) {
	for _, mech := range []string{"PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"} {
		t.Run(mech, func(t *testing.T) {
			k := startCluster(t, kfake.SeedTopics(testPartitions, testTopic), kfake.EnableSASL(), kfake.Superuser(mech, "connector", "s3cret"))
			cfg := testConfig(k)
			cfg.SASLMechanism, cfg.SASLUsername, cfg.SASLPassword = mech, "connector", "s3cret"
			if err := write(t, cfg, sinktest.Events("sasl", 3, 1)); err != nil {
				t.Fatal(err)
			}
			cfg.SASLPassword = "wrong"
			err := write(t, cfg, sinktest.Events("sasl-bad", 1, 1))
			if err == nil || connector.IsPermanent(connector.ErrorAt(err, 0)) {
				t.Fatalf("wrong password: %v, want a transient error (nothing dead-lettered for bad credentials)", err)
			}
		})
	}
}

// TestCreateTopics creates one topic per event family and writes each event
// to its family's topic.
func TestCreateTopics(t *testing.T) {
	k := startCluster(t)
	cfg := testConfig(k)
	cfg.Topic, cfg.CreateTopics, cfg.Partitions, cfg.ReplicationFactor = "agentphone.{kind}", true, 3, 1
	msg := sinktest.Events("fam", 2, 2)
	ended := sinktest.Events("fam-end", 1, 1)[0]
	ended.Type = connector.TypePrefix + connector.EventCallEnded
	if err := write(t, cfg, append(msg, ended)); err != nil {
		t.Fatal(err)
	}
	if n := len(readAll(t, cfg.Brokers, "agentphone.message")); n != 2 {
		t.Fatalf("agentphone.message holds %d records, want 2", n)
	}
	if n := len(readAll(t, cfg.Brokers, "agentphone.call_ended")); n != 1 {
		t.Fatalf("agentphone.call_ended holds %d records, want 1", n)
	}
	conn, err := kafka.Dial("tcp", cfg.Brokers[0])
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	parts, err := conn.ReadPartitions("agentphone.unknown")
	if err != nil || len(parts) != 3 {
		t.Fatalf("agentphone.unknown: %d partitions, %v; want 3", len(parts), err)
	}
}

// TestTopicsOfKinds: with a topic per family and kinds, the sink creates
// and reads back only its kinds' topics.
func TestTopicsOfKinds(t *testing.T) {
	cfg := kafkasink.Config{Topic: "agentphone.{kind}", Kinds: []string{"call_ended", "message"}}
	if got := strings.Join(cfg.Topics(), " "); got != "agentphone.message agentphone.call_ended" {
		t.Fatalf("Topics() = %s", got)
	}
	cfg.Kinds = nil
	if n := len(cfg.Topics()); n != len(connector.Kinds()) {
		t.Fatalf("%d topics without kinds, want one per kind (%d)", n, len(connector.Kinds()))
	}
}

// TestProduceErrors runs the sink through a spell of retriable broker
// errors: nothing is lost or dead-lettered, order holds.
func TestProduceErrors(t *testing.T) {
	k := startCluster(t, kfake.SeedTopics(testPartitions, testTopic))
	tg := &target{c: k, cfg: testConfig(k)}
	j := sinktest.StartJournal(t)
	js, _ := j.JetStream(t)
	r, err := sinks.New(js, j.Config.Stream, sinktest.Config(), []sinks.Sink{{Name: kafkasink.Name, Writer: tg.NewWriter(t), Batch: sinks.Batching{Size: 20, Wait: 5 * time.Millisecond}}},
		sinks.Settings{Logger: sinktest.Logger(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close(context.Background())
	restore := failProduce(k, func(req kmsg.Request) (kmsg.Response, error) {
		return produceError(req.(*kmsg.ProduceRequest), kerr.NotEnoughReplicas.Code), nil
	})
	if err := r.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	events := sinktest.Events("nerr", 60, 6)
	j.Append(t, events...)
	sinktest.Eventually(t, 20*time.Second, func() bool {
		st := r.Status(context.Background())[0]
		return st.State == sinks.StateRetrying && strings.Contains(st.LastError, "Not Enough Replicas")
	}, func() string { return "sink not retrying: " + r.Status(context.Background())[0].String() })
	restore()
	var got []sinktest.Received
	sinktest.Eventually(t, 30*time.Second, func() bool { got = tg.Read(t); return len(sinktest.Dedupe(got)) == 60 },
		func() string { return "not every event arrived" })
	if err := sinktest.CheckDelivered(events, got); err != nil {
		t.Fatal(err)
	}
	if st := r.Status(context.Background())[0]; st.DeadLettered != 0 {
		t.Fatalf("dead-lettered %d", st.DeadLettered)
	}
}

func produceError(req *kmsg.ProduceRequest, code int16) *kmsg.ProduceResponse {
	resp := req.ResponseKind().(*kmsg.ProduceResponse)
	for _, rt := range req.Topics {
		st := kmsg.NewProduceResponseTopic()
		st.Topic = rt.Topic
		for _, rp := range rt.Partitions {
			sp := kmsg.NewProduceResponseTopicPartition()
			sp.Partition, sp.ErrorCode = rp.Partition, code
			st.Partitions = append(st.Partitions, sp)
		}
		resp.Topics = append(resp.Topics, st)
	}
	return resp
}

func TestWriterCloseWithoutWrite(t *testing.T) {
	check := sinktest.CheckLeaks(t)
	k := startCluster(t)
	w := newWriter(t, testConfig(k))
	if err := w.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	k.Close()
	check()
}

func TestConfigValidate(t *testing.T) {
	base := kafkasink.Config{Brokers: []string{"127.0.0.1:9092"}, Topic: "agentphone.events", Mode: "binary", Compression: "zstd",
		BatchSize: 500, BatchBytes: 1_000_000, BatchTimeout: time.Millisecond, Timeout: time.Second, Partitions: 6, ReplicationFactor: -1}
	cases := []struct {
		name  string
		edit  func(*kafkasink.Config)
		valid bool
	}{
		{"valid", func(*kafkasink.Config) {}, true},
		{"disabled", func(c *kafkasink.Config) { *c = kafkasink.Config{} }, true},
		{"per family", func(c *kafkasink.Config) { c.Topic = "agentphone.{kind}" }, true},
		{"bad broker", func(c *kafkasink.Config) { c.Brokers = []string{"kafka"} }, false},
		{"bad topic", func(c *kafkasink.Config) { c.Topic = "agent phone" }, false},
		{"bad mode", func(c *kafkasink.Config) { c.Mode = "avro" }, false},
		{"bad compression", func(c *kafkasink.Config) { c.Compression = "brotli" }, false},
		{"tiny batch bytes", func(c *kafkasink.Config) { c.BatchBytes = 10 }, false},
		{"no partitions", func(c *kafkasink.Config) { c.CreateTopics, c.Partitions = true, 0 }, false},
		{"bad mechanism", func(c *kafkasink.Config) { c.SASLMechanism = "GSSAPI" }, false},
		{"mechanism without user", func(c *kafkasink.Config) { c.SASLMechanism = "PLAIN" }, false},
		{"key without cert", func(c *kafkasink.Config) { c.TLSKey = "k.pem" }, false},
		{"kinds", func(c *kafkasink.Config) { c.Kinds = []string{"message", "call_ended"} }, true},
		{"unknown kind", func(c *kafkasink.Config) { c.Kinds = []string{"messages"} }, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := base
			c.edit(&cfg)
			if err := cfg.Validate(); (err == nil) != c.valid {
				t.Fatalf("Validate() = %v, want valid %v", err, c.valid)
			}
		})
	}
}
