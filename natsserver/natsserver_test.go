package natsserver_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/agentphone-connector/connector/journal/journaltest"
	"github.com/agentphone-connector/connector/natsserver"
)

func TestStartConnectShutdown(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := natsserver.Start(ctx, natsserver.Config{Listen: "127.0.0.1:0", MaxPayload: 8 << 20, StoreDir: dir, StartWait: 10 * time.Second}, journaltest.Discard())
	if err != nil {
		t.Fatal(err)
	}
	in, err := s.Connect()
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	if in.MaxPayload() != 8<<20 {
		t.Errorf("max payload %d", in.MaxPayload())
	}
	tcp, err := nats.Connect(s.ClientURL(), s.As(natsserver.SubscriberUser))
	if err != nil {
		t.Fatalf("local subscribers cannot connect: %v", err)
	}
	tcp.Close()
	if nc, err := nats.Connect(s.ClientURL()); err == nil {
		nc.Close()
		t.Fatal("a client without credentials connects")
	}
	if err := s.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestNoListener(t *testing.T) {
	s, err := natsserver.Start(context.Background(), natsserver.Config{Listen: "none", MaxPayload: 1 << 20, StoreDir: t.TempDir(), StartWait: 10 * time.Second}, journaltest.Discard())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Shutdown(context.Background())
	if s.ClientURL() != "" {
		t.Fatalf("listens at %s", s.ClientURL())
	}
	nc, err := s.Connect()
	if err != nil {
		t.Fatalf("in-process connection: %v", err)
	}
	nc.Close()
}

func TestValidate(t *testing.T) {
	err := natsserver.Config{Listen: "localhost", MaxPayload: 10, StartWait: 0}.Validate()
	for _, want := range []string{"CONNECTOR_NATS_LISTEN", "CONNECTOR_NATS_MAX_PAYLOAD", "CONNECTOR_DATA_DIR", "CONNECTOR_NATS_START_TIMEOUT"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("not reported: %s (%v)", want, err)
		}
	}
}
