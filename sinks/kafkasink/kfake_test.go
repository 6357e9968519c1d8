package kafkasink_test

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"sync/atomic"
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

const (
	testTopic      = "agentphone.events"
	testPartitions = 4
	brokerMaxBytes = 128 << 10 // the broker's message.max.bytes in tests: below the writer's limit, so the broker is what refuses a poisoned event
)

// startCluster starts an in-process Kafka broker, closed when the test ends.
func startCluster(t testing.TB, opts ...kfake.Opt) *kfake.Cluster {
	t.Helper()
	opts = append([]kfake.Opt{
		kfake.NumBrokers(1),
		kfake.DefaultNumPartitions(testPartitions),
		kfake.BrokerConfigs(map[string]string{"message.max.bytes": "131072"}),
	}, opts...)
	c, err := kfake.NewCluster(opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

// testConfig is the sink's configuration for c, with the environment's defaults.
func testConfig(c *kfake.Cluster) kafkasink.Config {
	return kafkasink.Config{
		Brokers: c.ListenAddrs(), Topic: testTopic, Mode: kafkasink.ModeBinary, Compression: "zstd",
		BatchSize: 500, BatchBytes: 1_000_000, BatchTimeout: 50 * time.Millisecond, Timeout: 10 * time.Second,
		ClientID: "test", Partitions: testPartitions, ReplicationFactor: -1,
	}
}

func newWriter(t testing.TB, cfg kafkasink.Config) *kafkasink.Writer {
	t.Helper()
	w, err := kafkasink.New(cfg, kafkasink.Settings{Logger: sinktest.Logger(t)})
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// readAll reads every record of topic with kafka-go's Reader, partition by
// partition, each in offset order.
func readAll(t testing.TB, brokers []string, topic string) []kafka.Message {
	t.Helper()
	return readWith(t, &kafka.Dialer{Timeout: 10 * time.Second}, brokers, topic)
}

// readAllTLS is readAll from a broker whose certificate caFile signs.
func readAllTLS(t testing.TB, brokers []string, caFile string) []kafka.Message {
	t.Helper()
	tc, err := sinks.TLSFiles{CA: caFile}.Load()
	if err != nil {
		t.Fatal(err)
	}
	return readWith(t, &kafka.Dialer{Timeout: 10 * time.Second, TLS: tc}, brokers, testTopic)
}

func readWith(t testing.TB, d *kafka.Dialer, brokers []string, topic string) []kafka.Message {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	conn, err := d.DialContext(ctx, "tcp", brokers[0])
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	parts, err := conn.ReadPartitions(topic)
	if err != nil {
		t.Fatalf("partitions of %s: %v", topic, err)
	}
	var out []kafka.Message
	for _, p := range parts {
		out = append(out, readPartition(ctx, t, d, brokers, topic, p.ID)...)
	}
	return out
}

func readPartition(ctx context.Context, t testing.TB, d *kafka.Dialer, brokers []string, topic string, p int) []kafka.Message {
	t.Helper()
	leader, err := d.DialLeader(ctx, "tcp", brokers[0], topic, p)
	if err != nil {
		t.Fatal(err)
	}
	last, err := leader.ReadLastOffset()
	leader.Close()
	if err != nil {
		t.Fatal(err)
	}
	if last == 0 {
		return nil
	}
	r := kafka.NewReader(kafka.ReaderConfig{Brokers: brokers, Topic: topic, Partition: p, MaxWait: 100 * time.Millisecond, Dialer: d})
	defer r.Close()
	var out []kafka.Message
	for {
		m, err := r.ReadMessage(ctx)
		if err != nil {
			t.Fatalf("read %s/%d: %v", topic, p, err)
		}
		out = append(out, m)
		if m.Offset >= last-1 {
			return out
		}
	}
}

func header(m kafka.Message, key string) string {
	for _, h := range m.Headers {
		if h.Key == key {
			return string(h.Value)
		}
	}
	return ""
}

// target runs the conformance suite against a kfake broker.
type target struct {
	c   *kfake.Cluster
	cfg kafkasink.Config
}

func newTarget(t *testing.T) sinktest.Target {
	c := startCluster(t, kfake.SeedTopics(testPartitions, testTopic))
	return &target{c: c, cfg: testConfig(c)}
}

func (k *target) Name() string                            { return kafkasink.Name }
func (k *target) NewWriter(t *testing.T) connector.Writer { return newWriter(t, k.cfg) }

func (k *target) Read(t *testing.T) []sinktest.Received {
	var out []sinktest.Received
	for _, m := range readAll(t, k.cfg.Brokers, k.cfg.Topic) {
		out = append(out, sinktest.Received{ID: header(m, kafkasink.HeaderID), Key: string(m.Key)})
	}
	return out
}

// Outage drops every connection that sends a produce request, as a broker
// that went away would.
func (k *target) Outage(*testing.T) func() {
	return failProduce(k.c, func(kmsg.Request) (kmsg.Response, error) { return nil, errors.New("broker down") })
}

// TimeoutAfterWrite has the broker apply the next n produce requests and
// answer them REQUEST_TIMED_OUT, as a broker does when the in-sync replicas
// did not confirm in time: the records are in the log.
func (k *target) TimeoutAfterWrite(_ *testing.T, n int) {
	k.c.Fault(kfake.Fault{Keys: []kmsg.Key{kmsg.Produce}, Err: kerr.RequestTimedOut, Count: n})
}

// Poison gives e a value of incompressible data larger than the broker's
// message.max.bytes.
func (k *target) Poison(e *connector.Event) *connector.Event {
	b := make([]byte, 2*brokerMaxBytes)
	_, _ = rand.Read(b)
	e.Data, _ = json.Marshal(base64.StdEncoding.EncodeToString(b))
	return e
}

// failProduce answers every produce request with fail until the returned
// restore function is called.
func failProduce(c *kfake.Cluster, fail func(kmsg.Request) (kmsg.Response, error)) (restore func()) {
	var down atomic.Bool
	down.Store(true)
	c.ControlKey(int16(kmsg.Produce), func(req kmsg.Request) (kmsg.Response, error, bool) {
		if !down.Load() {
			c.DropControl()
			return nil, nil, false
		}
		c.KeepControl()
		resp, err := fail(req)
		return resp, err, true
	})
	return func() { down.Store(false) }
}

func TestConformance(t *testing.T) {
	sinktest.Run(t, newTarget)
}
