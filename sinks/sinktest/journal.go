package sinktest

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	connector "github.com/agentphone-connector/connector"
	"github.com/agentphone-connector/connector/journal"
	"github.com/agentphone-connector/connector/natsserver"
	"github.com/agentphone-connector/connector/natsserver/natsservertest"
	"github.com/agentphone-connector/connector/sinks"
)

// Journal is a journal on an embedded nats-server (JetStream in memory), shut
// down when the test ends.
type Journal struct {
	Server *natsserver.Server
	Config journal.Config
	NC     *nats.Conn       // the appender's connection
	J      *journal.Journal // appends events
}

// StartJournal starts the server and opens the journal on it.
func StartJournal(t testing.TB) *Journal {
	t.Helper()
	return StartJournalOn(t, startServer(t))
}

// StartDiskJournal starts the server and opens the journal on it with its
// stream in a file store, as the connector runs by default.
func StartDiskJournal(t testing.TB) *Journal {
	t.Helper()
	return openJournal(t, startServer(t), false)
}

func startServer(t testing.TB) *natsserver.Server {
	t.Helper()
	return natsservertest.Embedded(t, Logger(t))
}

// StartJournalOn opens the journal, in memory, on a running server.
func StartJournalOn(t testing.TB, ns *natsserver.Server) *Journal {
	t.Helper()
	return openJournal(t, ns, true)
}

func openJournal(t testing.TB, ns *natsserver.Server, memory bool) *Journal {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cfg := journal.Config{
		Stream: "AGENTPHONE", SubjectPrefix: "agentphone", Replicas: 1, MaxAge: time.Hour,
		MaxBytes: -1, DedupeWindow: time.Hour, AppendTimeout: 10 * time.Second, Memory: memory,
	}
	j := &Journal{Server: ns, Config: cfg}
	j.NC = j.Connect(t)
	var err error
	if j.J, err = journal.Open(ctx, j.NC, cfg, journal.Settings{Logger: Logger(t)}); err != nil {
		t.Fatal(err)
	}
	return j
}

// Connect opens another client connection, closed when the test ends (closing
// it earlier is how a test makes a process "crash").
func (j *Journal) Connect(t testing.TB) *nats.Conn {
	t.Helper()
	nc, err := j.Server.Connect(nats.MaxReconnects(-1))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	return nc
}

// JetStream returns a JetStream context on a new connection, and the connection.
func (j *Journal) JetStream(t testing.TB) (jetstream.JetStream, *nats.Conn) {
	t.Helper()
	nc := j.Connect(t)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	return js, nc
}

// Append journals the events, failing the test if any is refused or was
// journaled before.
func (j *Journal) Append(t testing.TB, events ...*connector.Event) {
	t.Helper()
	for _, e := range events {
		res, err := j.J.Append(context.Background(), e)
		if err != nil {
			t.Fatalf("append %s: %v", e.ID, err)
		}
		if res.Duplicate {
			t.Fatalf("append %s: already journaled", e.ID)
		}
	}
}

// DeadLetter is one message of the dead-letter stream.
type DeadLetter struct {
	Seq    uint64
	Header nats.Header
	Data   []byte
}

// DeadLetters returns the messages of the dead-letter stream, in order, read
// one by one by sequence: it creates no consumer, so a test may poll it
// until a dead letter arrives. A stream that does not exist holds none.
func (j *Journal) DeadLetters(t testing.TB, cfg sinks.DeadLetterConfig) []DeadLetter {
	t.Helper()
	js, err := jetstream.New(j.NC)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := js.Stream(ctx, cfg.Stream)
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		return nil
	}
	if err != nil {
		t.Fatalf("dead letters: %v", err)
	}
	st := s.CachedInfo().State
	var out []DeadLetter
	for seq := st.FirstSeq; seq <= st.LastSeq && st.Msgs > 0; seq++ {
		m, err := s.GetMsg(ctx, seq)
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			continue
		}
		if err != nil {
			t.Fatalf("dead letters: %v", err)
		}
		out = append(out, DeadLetter{Seq: m.Sequence, Header: m.Header, Data: m.Data})
	}
	return out
}

// WaitDeadLetters polls the dead-letter stream until it holds n messages.
func (j *Journal) WaitDeadLetters(t testing.TB, cfg sinks.DeadLetterConfig, n int) []DeadLetter {
	t.Helper()
	var got []DeadLetter
	Eventually(t, 30*time.Second, func() bool { got = j.DeadLetters(t, cfg); return len(got) >= n },
		func() string { return "dead-letter stream holds " + itoa(len(got)) + " messages, want " + itoa(n) })
	return got
}

// LeaseTTL is the sinks' lease TTL in tests: a Runner whose connection was
// cut is replaced after about this long.
const LeaseTTL = 3 * time.Second

// WriteTimeout is how long one write may take in tests; a target that
// answers later than this has timed out.
const WriteTimeout = 2 * time.Second

// Config returns a delivery configuration for tests: quick retries, short
// leases, and the dead-letter stream and the lease bucket in memory.
func Config() sinks.Config {
	return sinks.Config{
		RetryMin: 2 * time.Millisecond, RetryMax: 50 * time.Millisecond,
		WriteTimeout: WriteTimeout, AckWait: 30 * time.Second,
		DeadLetter: sinks.DeadLetterConfig{Stream: "AGENTPHONE_DLQ", SubjectPrefix: "agentphone-dlq", MaxAge: time.Hour, Replicas: 1, Memory: true},
		Lease:      sinks.LeaseConfig{Bucket: "AGENTPHONE_SINK_LEASES", TTL: LeaseTTL, Replicas: 1, Memory: true},
	}
}

// Logger returns a logger that writes to the test's log when -v is set and
// discards otherwise.
func Logger(t testing.TB) *slog.Logger {
	if !testing.Verbose() {
		return slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(b []byte) (int, error) { w.t.Log(string(b)); return len(b), nil }
