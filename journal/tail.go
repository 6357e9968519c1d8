package journal

import (
	"context"
	"errors"
	"fmt"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	connector "github.com/agentphone-connector/connector"
)

// TailOptions chooses what Tail reads.
type TailOptions struct {
	Subject   string // filter, e.g. "agentphone.message.>"; "" for the whole stream
	FromStart bool   // read from the first stored event rather than only new ones
}

// Tail calls fn with each event of the stream, in order, until ctx is done or
// fn returns an error. It reads through an ephemeral ordered consumer: it
// changes nothing in the journal and leaves no state behind.
func Tail(ctx context.Context, nc *nats.Conn, stream string, opt TailOptions, fn func(seq uint64, e *connector.Event) error) error {
	js, err := jetstream.New(nc)
	if err != nil {
		return err
	}
	cfg := jetstream.OrderedConsumerConfig{DeliverPolicy: jetstream.DeliverNewPolicy}
	if opt.FromStart {
		cfg.DeliverPolicy = jetstream.DeliverAllPolicy
	}
	if opt.Subject != "" {
		cfg.FilterSubjects = []string{opt.Subject}
	}
	cons, err := js.OrderedConsumer(ctx, stream, cfg)
	if err != nil {
		return fmt.Errorf("tail %s: %w", stream, err)
	}
	it, err := cons.Messages()
	if err != nil {
		return fmt.Errorf("tail %s: %w", stream, err)
	}
	stop := context.AfterFunc(ctx, it.Stop)
	defer stop()
	defer it.Stop()
	for {
		msg, err := it.Next()
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, jetstream.ErrMsgIteratorClosed) {
				return ctx.Err()
			}
			return fmt.Errorf("tail %s: %w", stream, err)
		}
		meta, err := msg.Metadata()
		if err != nil {
			return fmt.Errorf("tail %s: %w", stream, err)
		}
		e, err := connector.Unmarshal(msg.Data())
		if err != nil {
			return fmt.Errorf("tail %s seq %d: %w", stream, meta.Sequence.Stream, err)
		}
		if err := fn(meta.Sequence.Stream, e); err != nil {
			return err
		}
	}
}
