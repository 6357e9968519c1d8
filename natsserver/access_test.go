package natsserver_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	connector "github.com/agentphone-connector/connector"
	"github.com/agentphone-connector/connector/journal"
	"github.com/agentphone-connector/connector/journal/journaltest"
	"github.com/agentphone-connector/connector/natsserver"
)

// accessRig is an embedded server with the journal on it, opened by the
// connector, a sink's consumer and a key-value bucket of the connector's,
// and a subscriber connected over TCP whose permission errors are watched.
type accessRig struct {
	srv        *natsserver.Server
	conn, sub  *nats.Conn
	js, subJS  jetstream.JetStream
	journal    *journal.Journal
	violations chan error
}

const leases = "AGENTPHONE_SINK_LEASES"

func newAccessRig(t *testing.T) *accessRig {
	t.Helper()
	ctx := context.Background()
	r := &accessRig{violations: make(chan error, 16)}
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
	if _, err := r.js.CreateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: leases}); err != nil {
		t.Fatal(err)
	}
	r.sub, err = nats.Connect(r.srv.ClientURL(), r.srv.As(natsserver.SubscriberUser), nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
		if errors.Is(err, nats.ErrPermissionViolation) {
			r.violations <- err
		}
	}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.sub.Close)
	r.subJS, _ = jetstream.New(r.sub)
	return r
}

// denied runs op as the subscriber and fails the test unless the server
// refuses it for permissions, on a subject starting with subject.
func (r *accessRig) denied(t *testing.T, subject string, op func(context.Context, jetstream.JetStream) error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	got := make(chan error, 1)
	go func() {
		select {
		case err := <-r.violations:
			got <- err
			cancel() // a request that was refused gets no answer
		case <-ctx.Done():
			got <- nil
		}
	}()
	err := op(ctx, r.subJS)
	if err == nil {
		_ = r.sub.FlushWithContext(ctx) // a core publish: its refusal comes after
	}
	select {
	case v := <-got:
		if v == nil || !strings.Contains(v.Error(), `"`+subject) {
			t.Fatalf("not refused for permissions (op: %v, violation: %v)", err, v)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no answer")
	}
}

func forged(id string) *nats.Msg {
	m := nats.NewMsg("agentphone.message.conv_1.sms.agt_1")
	m.Header.Set(jetstream.MsgIDHeader, id)
	m.Data = []byte(`{"specversion":"1.0","id":"` + id + `","type":"ai.agentphone.agent.message"}`)
	return m
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
	ops := []struct {
		name, subject string
		op            func(context.Context, jetstream.JetStream) error
	}{
		{"publish a forged event", "agentphone.", func(ctx context.Context, js jetstream.JetStream) error {
			_, err := js.PublishMsg(ctx, forged("whd_forged_1"))
			return err
		}},
		{"core publish a forged event", "agentphone.", func(_ context.Context, js jetstream.JetStream) error { return js.Conn().PublishMsg(forged("whd_forged_2")) }},
		{"put a lease", "$KV." + leases, func(_ context.Context, js jetstream.JetStream) error {
			return js.Conn().Publish("$KV."+leases+".kafka", []byte("me"))
		}},
		{"read the sink's consumer", "$JS.API.CONSUMER.MSG.NEXT.AGENTPHONE.sink-kafka", func(ctx context.Context, js jetstream.JetStream) error {
			_, err := js.Conn().RequestWithContext(ctx, "$JS.API.CONSUMER.MSG.NEXT.AGENTPHONE.sink-kafka", []byte(`{"batch":1}`))
			return err
		}},
		{"acknowledge for the sink", "$JS.ACK.AGENTPHONE.sink-kafka", func(_ context.Context, js jetstream.JetStream) error {
			return js.Conn().Publish("$JS.ACK.AGENTPHONE.sink-kafka.1.1.1.0.0", []byte("+ACK"))
		}},
		{"acknowledge for the sink, new format", "$JS.ACK._.", func(_ context.Context, js jetstream.JetStream) error {
			return js.Conn().Publish("$JS.ACK._.hash.AGENTPHONE.sink-kafka.1.1.1.0.0.x", []byte("+ACK"))
		}},
		{"change the sink's consumer", "$JS.API.CONSUMER.CREATE.AGENTPHONE.sink-kafka", func(ctx context.Context, js jetstream.JetStream) error {
			_, err := js.CreateOrUpdateConsumer(ctx, "AGENTPHONE", jetstream.ConsumerConfig{Durable: "sink-kafka", AckPolicy: jetstream.AckExplicitPolicy, Description: "mine"})
			return err
		}},
		{"rewind the sink's consumer", "$JS.API.CONSUMER.RESET.AGENTPHONE.sink-kafka", func(ctx context.Context, js jetstream.JetStream) error {
			_, err := js.ResetConsumerToSequence(ctx, "AGENTPHONE", "sink-kafka", 1)
			return err
		}},
		{"update the stream", "$JS.API.STREAM.UPDATE.AGENTPHONE", func(ctx context.Context, js jetstream.JetStream) error {
			_, err := js.UpdateStream(ctx, journal.StreamConfig(journaltest.Config()))
			return err
		}},
		{"delete a message", "$JS.API.STREAM.MSG.DELETE.AGENTPHONE", func(ctx context.Context, js jetstream.JetStream) error {
			s, err := js.Stream(ctx, "AGENTPHONE")
			if err != nil {
				return err
			}
			return s.DeleteMsg(ctx, 1)
		}},
		{"delete the sink's consumer", "$JS.API.CONSUMER.DELETE.AGENTPHONE.sink-kafka", func(ctx context.Context, js jetstream.JetStream) error {
			return js.DeleteConsumer(ctx, "AGENTPHONE", "sink-kafka")
		}},
		{"delete the bucket", "$JS.API.STREAM.DELETE.KV_" + leases, func(ctx context.Context, js jetstream.JetStream) error {
			return js.DeleteKeyValue(ctx, leases)
		}},
		{"purge the stream", "$JS.API.STREAM.PURGE.AGENTPHONE", func(ctx context.Context, js jetstream.JetStream) error {
			s, err := js.Stream(ctx, "AGENTPHONE")
			if err != nil {
				return err
			}
			return s.Purge(ctx)
		}},
		{"delete the stream", "$JS.API.STREAM.DELETE.AGENTPHONE", func(ctx context.Context, js jetstream.JetStream) error {
			return js.DeleteStream(ctx, "AGENTPHONE")
		}},
	}
	for _, o := range ops {
		t.Run(o.name, func(t *testing.T) { r.denied(t, o.subject, o.op) })
	}

	// The delivery the forgery aimed at goes in.
	e := &connector.Event{ID: "whd_forged_1", Type: "ai.agentphone.agent.message", Source: "agentphone/webhook/project", Subject: "conv_1",
		Time: time.Now(), ReceivedAt: time.Now(), Status: connector.StatusOK, Raw: []byte(`{"event":"agent.message"}`)}
	res, err := r.journal.Append(ctx, e)
	if err != nil || res.Duplicate {
		t.Fatalf("the signed delivery: %+v %v, want journaled", res, err)
	}
	ids := journaltest.IDs(t, r.conn, "AGENTPHONE")
	if len(ids) != 1 || ids["whd_forged_1"] != 1 {
		t.Fatalf("journal holds %v, want the signed delivery alone", ids)
	}
	c, err := r.js.Consumer(ctx, "AGENTPHONE", "sink-kafka")
	if err != nil || c.CachedInfo().NumPending != 1 || c.CachedInfo().Config.Description != "" {
		t.Fatalf("the sink's consumer was changed: %+v %v", c.CachedInfo(), err)
	}
	for _, o := range ops { // what was refused is what the server does for the connector
		if err := o.op(ctx, r.js); err != nil {
			t.Errorf("as the connector, %s: %v", o.name, err)
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
