package natsserver_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	connector "github.com/agentphone-connector/connector"
	"github.com/agentphone-connector/connector/journal"
	"github.com/agentphone-connector/connector/journal/journaltest"
	"github.com/agentphone-connector/connector/natsserver"
	"github.com/agentphone-connector/connector/natsserver/natsservertest"
)

// accessRig is an embedded server with the journal on it, opened by the
// connector, a sink's consumer and a key-value bucket of the connector's,
// and a subscriber connected over TCP whose permission errors are watched.
type accessRig struct {
	srv        *natsserver.Server
	conn, sub  *nats.Conn
	js, subJS  jetstream.JetStream
	journal    *journal.Journal
	violations natsservertest.Violations
}

// names are the journal, a sink's consumer and a bucket the rig makes.
var names = natsservertest.Names{Stream: "AGENTPHONE", Prefix: "agentphone", Consumer: "sink-kafka", Bucket: "AGENTPHONE_SINK_LEASES"}

func newAccessRig(t *testing.T) *accessRig {
	t.Helper()
	ctx := context.Background()
	r := &accessRig{violations: natsservertest.NewViolations()}
	var err error
	r.srv, err = natsserver.Start(ctx, natsserver.Config{Listen: "127.0.0.1:0", MaxPayload: 8 << 20, StoreDir: t.TempDir(), StartWait: 10 * time.Second,
		Access: natsserver.Access{Streams: []string{"AGENTPHONE"}, Subjects: []string{"agentphone.>"}, Reserved: []string{"sink-kafka"}}}, journaltest.Discard())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.srv.Shutdown(ctx) })
	if r.conn, err = r.srv.Connect(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.conn.Close)
	if r.journal, err = journal.Open(ctx, r.conn, journaltest.Config(), journal.Settings{Logger: journaltest.Discard()}); err != nil {
		t.Fatal(err)
	}
	r.js, _ = jetstream.New(r.conn)
	if _, err := r.js.CreateConsumer(ctx, "AGENTPHONE", jetstream.ConsumerConfig{Durable: "sink-kafka", AckPolicy: jetstream.AckExplicitPolicy}); err != nil {
		t.Fatal(err)
	}
	if _, err := r.js.CreateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: names.Bucket}); err != nil {
		t.Fatal(err)
	}
	r.sub, err = nats.Connect(r.srv.ClientURL(), r.srv.As(natsserver.SubscriberUser), r.violations.Option())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.sub.Close)
	r.subJS, _ = jetstream.New(r.sub)
	return r
}

// A subscriber, or a client without credentials, cannot publish into the
// journal: a forged event with the ID of a delivery to come is refused, and
// the signed delivery with that ID is then journaled, not taken for a
// duplicate. Nor can it purge, delete or change the stream or its
// messages, write the connector's key-value bucket, or read from,
// acknowledge, change or delete the connector's consumer. Each operation is
// then done as the connector, to show it is one the server would do.
func TestSubscriberCannotWrite(t *testing.T) {
	r := newAccessRig(t)
	ctx := context.Background()
	if nc, err := nats.Connect(r.srv.ClientURL()); err == nil {
		nc.Close()
		t.Fatal("a client without credentials connects")
	}
	ops := natsservertest.WriteOps(names)
	for _, o := range ops {
		t.Run(o.Name, func(t *testing.T) { natsservertest.Denied(t, r.subJS, r.violations, o) })
	}

	// The delivery the forgery aimed at goes in.
	e := &connector.Event{ID: natsservertest.ForgedID, Type: "ai.agentphone.agent.message", Source: "agentphone/webhook/project", Subject: "conv_1",
		Time: time.Now(), ReceivedAt: time.Now(), Status: connector.StatusOK, Raw: []byte(`{"event":"agent.message"}`)}
	res, err := r.journal.Append(ctx, e)
	if err != nil || res.Duplicate {
		t.Fatalf("the signed delivery: %+v %v, want journaled", res, err)
	}
	ids := journaltest.IDs(t, r.conn, "AGENTPHONE")
	if len(ids) != 1 || ids[natsservertest.ForgedID] != 1 {
		t.Fatalf("journal holds %v, want the signed delivery alone", ids)
	}
	c, err := r.js.Consumer(ctx, "AGENTPHONE", "sink-kafka")
	if err != nil {
		t.Fatal(err)
	}
	if info := c.CachedInfo(); info.Delivered.Consumer != 0 || info.AckFloor.Stream != 0 || info.Config.Description != "" {
		t.Fatalf("the sink's consumer was read, acknowledged or changed: %+v", info)
	}
	for _, o := range ops { // what was refused is what the server does for the connector
		if err := o.Do(ctx, r.js); err != nil {
			t.Errorf("as the connector, %s: %v", o.Name, err)
		}
	}
}

// A subscriber reads the journal as the README shows: a durable consumer
// of its own, read and acknowledged, an ordered one (connector tail), a
// message by sequence, and a core subscription.
func TestSubscriberReads(t *testing.T) {
	r := newAccessRig(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	live, err := r.sub.SubscribeSync("agentphone.>")
	if err != nil {
		t.Fatal(err)
	}
	r.sub.Flush()
	e := &connector.Event{ID: "whd_read_1", Type: "ai.agentphone.agent.message", Subject: "conv_1", Time: time.Now(), ReceivedAt: time.Now(), Status: connector.StatusOK}
	if _, err := r.journal.Append(ctx, e); err != nil {
		t.Fatal(err)
	}
	if m, err := live.NextMsg(10 * time.Second); err != nil || m.Header.Get(jetstream.MsgIDHeader) != "whd_read_1" {
		t.Fatalf("core subscription: %v", err)
	}
	cons, err := r.subJS.CreateOrUpdateConsumer(ctx, "AGENTPHONE", jetstream.ConsumerConfig{
		Durable: "billing", FilterSubjects: []string{"agentphone.message.>"}, AckPolicy: jetstream.AckExplicitPolicy})
	if err != nil {
		t.Fatal(err)
	}
	batch, err := cons.Fetch(1, jetstream.FetchMaxWait(10*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	for m := range batch.Messages() {
		if err := m.DoubleAck(ctx); err != nil {
			t.Fatalf("ack: %v", err)
		}
	}
	if info, err := cons.Info(ctx); err != nil || info.AckFloor.Stream != 1 {
		t.Fatalf("own consumer after ack: %+v %v", info, err)
	}
	got := 0
	err = journal.Tail(ctx, r.sub, "AGENTPHONE", journal.TailOptions{FromStart: true}, func(_ uint64, e *connector.Event) error {
		got++
		return errStop
	})
	if !errors.Is(err, errStop) || got != 1 {
		t.Fatalf("tail: %d events, %v", got, err)
	}
	s, err := r.subJS.Stream(ctx, "AGENTPHONE")
	if err != nil {
		t.Fatal(err)
	}
	if m, err := s.GetMsg(ctx, 1); err != nil || m.Header.Get(jetstream.MsgIDHeader) != "whd_read_1" {
		t.Fatalf("message by sequence: %v", err)
	}
	if err := r.subJS.DeleteConsumer(ctx, "AGENTPHONE", "billing"); err != nil {
		t.Fatalf("delete own consumer: %v", err)
	}
}

var errStop = errors.New("stop")
