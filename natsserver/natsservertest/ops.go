package natsservertest

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Names are what the checks act on: the journal's stream and its subject
// prefix, one of the connector's consumers on it, one of its key-value
// buckets.
type Names struct {
	Stream, Prefix, Consumer, Bucket string
}

// Op is an operation a subscriber must not be able to do. Subject starts
// the subject the server refuses it on.
type Op struct {
	Name, Subject string
	Do            func(ctx context.Context, js jetstream.JetStream) error
}

// Forged returns an event published straight to the journal's subjects
// with the ID of a delivery to come.
func Forged(n Names, id string) *nats.Msg {
	m := nats.NewMsg(n.Prefix + ".message.conv_1.sms.agt_1")
	m.Header.Set(jetstream.MsgIDHeader, id)
	m.Data = []byte(`{"specversion":"1.0","id":"` + id + `","type":"ai.agentphone.agent.message"}`)
	return m
}

// WriteOps returns what a subscriber must not do: publish an event into
// the journal (ForgedID, and another by core NATS), write the bucket, read
// from, acknowledge for, change, rewind or delete the consumer, update the
// stream, delete a message, delete the bucket, purge or delete the stream.
// Done in order by the connector they all succeed, the last ones undoing
// the journal.
func WriteOps(n Names) []Op {
	s, c := n.Stream, n.Consumer
	return []Op{
		{"publish a forged event", n.Prefix + ".", func(ctx context.Context, js jetstream.JetStream) error {
			_, err := js.PublishMsg(ctx, Forged(n, ForgedID))
			return err
		}},
		{"core publish a forged event", n.Prefix + ".", func(_ context.Context, js jetstream.JetStream) error {
			return js.Conn().PublishMsg(Forged(n, ForgedID+"_core"))
		}},
		{"put into the bucket", "$KV." + n.Bucket, func(_ context.Context, js jetstream.JetStream) error {
			return js.Conn().Publish("$KV."+n.Bucket+".key", []byte("mine"))
		}},
		{"read the connector's consumer", "$JS.API.CONSUMER.MSG.NEXT." + s + "." + c, func(ctx context.Context, js jetstream.JetStream) error {
			_, err := js.Conn().RequestWithContext(ctx, "$JS.API.CONSUMER.MSG.NEXT."+s+"."+c, []byte(`{"batch":1,"no_wait":true}`))
			return err
		}},
		{"acknowledge for the connector", "$JS.ACK." + s + "." + c, func(_ context.Context, js jetstream.JetStream) error {
			return js.Conn().Publish("$JS.ACK."+s+"."+c+".1.1.1.0.0", []byte("+ACK"))
		}},
		{"acknowledge for the connector, new format", "$JS.ACK._.", func(_ context.Context, js jetstream.JetStream) error {
			return js.Conn().Publish("$JS.ACK._.hash."+s+"."+c+".1.1.1.0.0.x", []byte("+ACK"))
		}},
		{"change the connector's consumer", "$JS.API.CONSUMER.CREATE." + s + "." + c, func(ctx context.Context, js jetstream.JetStream) error {
			_, err := js.CreateOrUpdateConsumer(ctx, s, jetstream.ConsumerConfig{Durable: c, AckPolicy: jetstream.AckExplicitPolicy, Description: "changed"})
			return err
		}},
		{"rewind the connector's consumer", "$JS.API.CONSUMER.RESET." + s + "." + c, func(ctx context.Context, js jetstream.JetStream) error {
			_, err := js.ResetConsumerToSequence(ctx, s, c, 1)
			return err
		}},
		{"update the stream", "$JS.API.STREAM.UPDATE." + s, func(ctx context.Context, js jetstream.JetStream) error {
			st, err := js.Stream(ctx, s)
			if err != nil {
				return err
			}
			cfg := st.CachedInfo().Config
			cfg.Description = "changed"
			_, err = js.UpdateStream(ctx, cfg)
			return err
		}},
		{"delete a message", "$JS.API.STREAM.MSG.DELETE." + s, func(ctx context.Context, js jetstream.JetStream) error {
			st, err := js.Stream(ctx, s)
			if err != nil {
				return err
			}
			return st.DeleteMsg(ctx, st.CachedInfo().State.FirstSeq)
		}},
		{"delete the connector's consumer", "$JS.API.CONSUMER.DELETE." + s + "." + c, func(ctx context.Context, js jetstream.JetStream) error {
			return js.DeleteConsumer(ctx, s, c)
		}},
		{"delete the bucket", "$JS.API.STREAM.DELETE.KV_" + n.Bucket, func(ctx context.Context, js jetstream.JetStream) error {
			return js.DeleteKeyValue(ctx, n.Bucket)
		}},
		{"purge the stream", "$JS.API.STREAM.PURGE." + s, func(ctx context.Context, js jetstream.JetStream) error {
			st, err := js.Stream(ctx, s)
			if err != nil {
				return err
			}
			return st.Purge(ctx)
		}},
		{"delete the stream", "$JS.API.STREAM.DELETE." + s, func(ctx context.Context, js jetstream.JetStream) error {
			return js.DeleteStream(ctx, s)
		}},
	}
}

// ForgedID is the event ID the forged publishes of WriteOps take.
const ForgedID = "whd_forged_1"

// Violations collects a connection's permission violations; connect with
// its Option.
type Violations chan error

// NewViolations returns an empty collector.
func NewViolations() Violations { return make(Violations, 64) }

// Option is the connection option that reports to v.
func (v Violations) Option() nats.Option {
	return nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
		if errors.Is(err, nats.ErrPermissionViolation) {
			select {
			case v <- err:
			default:
			}
		}
	})
}

// Denied does op on js, a connection of the subscriber reporting to v, and
// fails the test unless the server refuses it for permissions on a subject
// that starts with op.Subject. A refused request gets no answer: it is
// given up when the refusal arrives.
func Denied(t testing.TB, js jetstream.JetStream, v Violations, op Op) {
	t.Helper()
	for len(v) > 0 {
		<-v
	}
	ctx, cancel := ctxTimeout()
	defer cancel()
	got := make(chan error, 1)
	go func() {
		select {
		case err := <-v:
			got <- err
			cancel()
		case <-ctx.Done():
			got <- nil
		}
	}()
	err := op.Do(ctx, js)
	if err == nil {
		_ = js.Conn().FlushWithContext(ctx) // a core publish: its refusal comes after
	}
	select {
	case violation := <-got:
		if violation == nil || !strings.Contains(violation.Error(), `"`+op.Subject) {
			t.Fatalf("%s: not refused for permissions (the operation: %v, violation: %v)", op.Name, err, violation)
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("%s: no answer", op.Name)
	}
}
