package natssink_test

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"net"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	connector "github.com/agentphone-connector/connector"
	"github.com/agentphone-connector/connector/sinks/natssink"
	"github.com/agentphone-connector/connector/sinks/sinktest"
)

const (
	targetStream = "EVENTS"
	maxMsgSize   = 64 << 10 // the target stream's limit: a poisoned event is larger
)

// targetServer is a second nats-server, the sink's target, on a loopback
// port that it keeps across a restart.
type targetServer struct {
	t    testing.TB
	dir  string
	port int
	ns   *server.Server
}

func startTarget(t testing.TB) *targetServer {
	t.Helper()
	s := &targetServer{t: t, dir: t.TempDir(), port: server.RANDOM_PORT}
	s.start()
	s.port = s.ns.Addr().(*net.TCPAddr).Port
	t.Cleanup(s.stop)
	return s
}

func (s *targetServer) start() {
	ns, err := server.NewServer(&server.Options{
		Host: "127.0.0.1", Port: s.port, JetStream: true, StoreDir: s.dir, NoSigs: true, NoLog: true,
	})
	if err != nil {
		s.t.Fatal(err)
	}
	go ns.Start()
	if !ns.ReadyForConnections(10 * time.Second) {
		s.t.Fatal("target nats-server not ready")
	}
	s.ns = ns
}

func (s *targetServer) stop() {
	if s.ns != nil {
		s.ns.Shutdown()
		s.ns.WaitForShutdown()
		s.ns = nil
	}
}

func (s *targetServer) url() string { return s.ns.ClientURL() }

// addStream creates the stream that takes the sink's subjects.
func (s *targetServer) addStream(t testing.TB) {
	t.Helper()
	js := s.jetStream(t)
	_, err := js.CreateStream(context.Background(), jetstream.StreamConfig{
		Name: targetStream, Subjects: []string{"agentphone.>"}, MaxMsgSize: maxMsgSize,
		Duplicates: time.Hour, Storage: jetstream.FileStorage,
	})
	if err != nil {
		t.Fatal(err)
	}
}

func (s *targetServer) jetStream(t testing.TB) jetstream.JetStream {
	t.Helper()
	nc, err := nats.Connect(s.url())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	return js
}

func testConfig(url string) natssink.Config {
	return natssink.Config{
		URL: url, Mode: natssink.ModeJetStream, Subject: "agentphone.{kind}.{subject}.{channel}.{agent}", Stream: targetStream,
		BatchSize: 500, BatchTimeout: 50 * time.Millisecond, Timeout: 5 * time.Second,
	}
}

// target runs the conformance suite against the target server, reached
// through a proxy that can lose its answers.
type target struct {
	s *targetServer
	p *proxy
}

func newTarget(t *testing.T) sinktest.Target {
	s := startTarget(t)
	s.addStream(t)
	return &target{s: s, p: startProxy(t, s.ns.Addr().String())}
}

func (x *target) Name() string { return natssink.Name }

// TimeoutAfterWrite loses the acks of the next n publishes: the stream
// stored the events, the sink sees its connection fail.
func (x *target) TimeoutAfterWrite(_ *testing.T, n int) { x.p.loseAnswers(n) }

func (x *target) NewWriter(t *testing.T) connector.Writer {
	w, err := natssink.New(testConfig(x.p.url()), natssink.Settings{Logger: sinktest.Logger(t)})
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// Read returns the target stream's messages in order.
func (x *target) Read(t *testing.T) []sinktest.Received {
	nc, err := nats.Connect(x.s.url())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close() // now, not at the end of the test: leak checks run before that
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	var out []sinktest.Received
	for _, m := range readStream(t, js) {
		e, err := connector.Unmarshal(m.Data())
		if err != nil {
			t.Fatal(err)
		}
		if id := m.Headers().Get(jetstream.MsgIDHeader); id != e.ID {
			t.Fatalf("Nats-Msg-Id %q, event ID %q", id, e.ID)
		}
		out = append(out, sinktest.Received{ID: e.ID, Key: e.Subject})
	}
	return out
}

// readStream reads the target stream from its start through a consumer of
// its own, deleted afterwards: tests poll it, and the server keeps at most
// 1,000 consumers per stream.
func readStream(t testing.TB, js jetstream.JetStream) []jetstream.Msg {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := js.CreateConsumer(ctx, targetStream, jetstream.ConsumerConfig{
		AckPolicy: jetstream.AckNonePolicy, MemoryStorage: true, InactiveThreshold: time.Minute,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = js.DeleteConsumer(context.WithoutCancel(ctx), targetStream, c.CachedInfo().Name) }()
	var out []jetstream.Msg
	for {
		b, err := c.FetchNoWait(500)
		if err != nil {
			t.Fatal(err)
		}
		n := len(out)
		for m := range b.Messages() {
			out = append(out, m)
		}
		if len(out) == n {
			return out
		}
	}
}

// Outage shuts the target server down; restore starts it again on the same
// port and store, and the sink reconnects.
func (x *target) Outage(*testing.T) func() {
	x.s.stop()
	return x.s.start
}

// Poison makes e larger than the target stream takes.
func (x *target) Poison(e *connector.Event) *connector.Event {
	b := make([]byte, maxMsgSize)
	_, _ = rand.Read(b)
	e.Data, _ = json.Marshal(base64.StdEncoding.EncodeToString(b))
	return e
}

func TestConformance(t *testing.T) {
	sinktest.Run(t, newTarget)
}
