// Package journaltest runs a real journal for tests: an embedded nats-server
// with JetStream in a temporary directory, a TCP client connection (as the
// connector's user) that reconnects, and the journal stream on it. The server can be stopped and
// restarted on the same directory and port, as a crash or an outage would.
package journaltest

import (
	"context"
	"io"
	"log/slog"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	connector "github.com/agentphone-connector/connector"
	"github.com/agentphone-connector/connector/journal"
	"github.com/agentphone-connector/connector/natsserver"
)

// Env is a running journal. Its fields are for reading; use the methods to
// change its state.
type Env struct {
	Server  *natsserver.Server // nil while stopped
	Conn    *nats.Conn
	Journal *journal.Journal
	Config  journal.Config

	nsCfg natsserver.Config
	t     testing.TB
}

// Config returns the journal configuration tests use: the defaults, with a
// short append timeout so that an outage is answered quickly.
func Config() journal.Config {
	return journal.Config{
		Stream: "AGENTPHONE", SubjectPrefix: "agentphone", Replicas: 1,
		MaxAge: 168 * time.Hour, MaxBytes: -1, DedupeWindow: 72 * time.Hour,
		AppendTimeout: 2 * time.Second,
	}
}

// Start starts a server in a fresh directory and opens the journal with cfg
// (Config() when nil). Everything is closed when the test ends.
func Start(t testing.TB, cfg *journal.Config) *Env {
	t.Helper()
	e := &Env{t: t, Config: Config()}
	if cfg != nil {
		e.Config = *cfg
	}
	e.nsCfg = natsserver.Config{Listen: "127.0.0.1:0", MaxPayload: 8 << 20, StoreDir: t.TempDir(), StartWait: 10 * time.Second}
	e.startServer()
	u, _ := url.Parse(e.Server.ClientURL())
	e.nsCfg.Listen = u.Host // restarts keep the port, so the client reconnects
	nc, err := nats.Connect(e.Server.ClientURL(), e.Server.As(natsserver.ConnectorUser), nats.MaxReconnects(-1), nats.ReconnectWait(20*time.Millisecond),
		nats.ReconnectBufSize(-1), nats.ReconnectJitter(0, 0))
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	e.Conn = nc
	j, err := journal.Open(context.Background(), nc, e.Config, journal.Settings{Logger: Discard()})
	if err != nil {
		t.Fatalf("open journal: %v", err)
	}
	e.Journal = j
	t.Cleanup(func() {
		nc.Close()
		e.Stop()
	})
	return e
}

// Credentials returns user's name and password on the server, for a
// process that connects to it with NATS_URL (NATS_USER, NATS_PASSWORD).
func (e *Env) Credentials(user string) (name, password string) {
	e.t.Helper()
	b, err := os.ReadFile(natsserver.PasswordFile(e.nsCfg.StoreDir, user))
	if err != nil {
		e.t.Fatal(err)
	}
	return user, strings.TrimSpace(string(b))
}

// Discard returns a logger that drops everything.
func Discard() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func (e *Env) startServer() {
	e.t.Helper()
	s, err := natsserver.Start(context.Background(), e.nsCfg, Discard())
	if err != nil {
		e.t.Fatalf("start nats: %v", err)
	}
	e.Server = s
}

// Stop shuts the server down, as an outage would. The client stays and
// reconnects after Restart.
func (e *Env) Stop() {
	if e.Server == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := e.Server.Shutdown(ctx); err != nil {
		e.t.Errorf("stop nats: %v", err)
	}
	e.Server = nil
	e.WaitConn(false)
}

// Restart starts the server again on the same directory and port and waits
// until the client has reconnected.
func (e *Env) Restart() {
	e.t.Helper()
	e.Stop()
	e.startServer()
	e.WaitConn(true)
}

// WaitConn waits until the client is connected (or not), failing the test
// after 30 s.
func (e *Env) WaitConn(connected bool) {
	e.t.Helper()
	ch := e.Conn.StatusChanged()
	defer e.Conn.RemoveStatusListener(ch)
	timeout := time.After(30 * time.Second)
	for e.Conn.IsConnected() != connected {
		select {
		case <-ch:
		case <-timeout:
			e.t.Fatalf("nats connection: still connected=%v", !connected)
		}
	}
}

// Events returns every event in the stream, in order, with its sequence.
func (e *Env) Events() []Stored {
	e.t.Helper()
	return Events(e.t, e.Conn, e.Config.Stream)
}

// Events returns every event in the journal stream nc reaches, in order,
// with its sequence.
func Events(t testing.TB, nc *nats.Conn, stream string) []Stored {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	s, err := js.Stream(ctx, stream)
	if err != nil {
		t.Fatalf("stream: %v", err)
	}
	var out []Stored
	for seq := s.CachedInfo().State.FirstSeq; seq > 0 && seq <= s.CachedInfo().State.LastSeq; seq++ {
		m, err := s.GetMsg(ctx, seq)
		if err != nil {
			t.Fatalf("get %d: %v", seq, err)
		}
		ev, err := connector.Unmarshal(m.Data)
		if err != nil {
			t.Fatalf("seq %d: %v", seq, err)
		}
		out = append(out, Stored{Seq: seq, Subject: m.Subject, MsgID: m.Header.Get(jetstream.MsgIDHeader), Event: ev})
	}
	return out
}

// Stored is one message of the journal.
type Stored struct {
	Seq     uint64
	Subject string
	MsgID   string
	Event   *connector.Event
}
