package natsservertest

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/agentphone-connector/connector/natsserver"
)

// Embedded starts the connector's embedded server as serve does, listening
// nowhere, with its store in a temporary directory, logging to log (nil:
// nowhere); it shuts down when the test ends.
func Embedded(t testing.TB, log *slog.Logger) *natsserver.Server {
	t.Helper()
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ns, err := natsserver.Start(ctx, natsserver.Config{Listen: "none", MaxPayload: 8 << 20, StoreDir: t.TempDir(), StartWait: 20 * time.Second}, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ns.Shutdown(context.Background()) })
	return ns
}

// JetStream connects to ns as the connector does and returns JetStream on
// that connection, closed when the test ends.
func JetStream(t testing.TB, ns *natsserver.Server, opts ...nats.Option) (jetstream.JetStream, *nats.Conn) {
	t.Helper()
	nc, err := ns.Connect(opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	return js, nc
}
