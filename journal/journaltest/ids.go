package journaltest

import (
	"context"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/agentphone-connector/connector/natsserver"
)

// IDs counts the messages of each Nats-Msg-Id in the stream on nc's server.
func IDs(t testing.TB, nc *nats.Conn, stream string) map[string]int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	s, err := js.Stream(ctx, stream)
	if err != nil {
		t.Fatalf("stream %s: %v", stream, err)
	}
	ids := map[string]int{}
	st := s.CachedInfo().State
	for seq := st.FirstSeq; st.Msgs > 0 && seq <= st.LastSeq; seq++ {
		m, err := s.GetMsg(ctx, seq)
		if err != nil {
			t.Fatalf("seq %d: %v", seq, err)
		}
		ids[m.Header.Get(jetstream.MsgIDHeader)]++
	}
	return ids
}

// IDsIn counts the messages of each Nats-Msg-Id in the journal (stream
// AGENTPHONE) that a stopped connector left in its data directory.
func IDsIn(t testing.TB, dataDir string) map[string]int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	ns, err := natsserver.Start(ctx, natsserver.Config{Listen: "none", MaxPayload: 8 << 20, StoreDir: dataDir, StartWait: 30 * time.Second}, Discard())
	if err != nil {
		t.Fatal(err)
	}
	defer ns.Shutdown(ctx)
	nc, err := ns.Connect()
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	return IDs(t, nc, Config().Stream)
}
