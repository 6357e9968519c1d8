package sinks

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// ConsumerName returns the durable journal consumer of the named sink.
func ConsumerName(sink string) string { return "sink-" + sink }

// ErrUnknownSink reports a sink that has no consumer on the journal: it was
// never started there.
var ErrUnknownSink = errors.New("sinks: no such sink on the journal")

// consumerConfig is the sink's durable consumer: every journaled event on
// the subjects of its filter (all of them without one), acknowledged a
// batch at a time (AckAll: the lease makes one replica its only reader, so
// an ack covers only events that replica wrote), with room for every batch
// unacknowledged: the one being committed, the one written, those read
// ahead and the one being read. Where a sink resumes is its saved progress,
// not the consumer's acks: a term starts by moving the consumer there.
func consumerConfig(sink string, filter []string, b Batching, cfg Config) jetstream.ConsumerConfig {
	return jetstream.ConsumerConfig{
		Durable:        ConsumerName(sink),
		FilterSubjects: filter,
		Description:    "agentphone-connector sink " + sink,
		DeliverPolicy:  jetstream.DeliverAllPolicy,
		AckPolicy:      jetstream.AckAllPolicy,
		AckWait:        cfg.AckWait,
		MaxDeliver:     -1,
		MaxAckPending:  (readAhead + 3) * b.Size,
		MaxWaiting:     64,
	}
}

// ensureConsumer creates the sink's consumer, or brings it to want, and
// returns its state before any change. A consumer that acknowledged each
// event (made before leases) cannot change its ack policy: it is deleted
// and made again, reset to its ack floor (a crash between the two makes
// the new one start from the journal's first event, which the writers'
// checkpoints then skip). Only the lease holder calls it.
func ensureConsumer(ctx context.Context, journal jetstream.Stream, want jetstream.ConsumerConfig) (*jetstream.ConsumerInfo, error) {
	c, err := journal.Consumer(ctx, want.Durable)
	if errors.Is(err, jetstream.ErrConsumerNotFound) {
		c, err = journal.CreateConsumer(ctx, want)
		if err != nil {
			return nil, err
		}
		return c.CachedInfo(), nil
	}
	if err != nil {
		return nil, err
	}
	info := c.CachedInfo()
	if info.Config.AckPolicy == want.AckPolicy {
		_, err = journal.UpdateConsumer(ctx, want)
		return info, err
	}
	if err := journal.DeleteConsumer(ctx, want.Durable); err != nil {
		return nil, fmt.Errorf("replace consumer: %w", err)
	}
	if _, err := journal.CreateConsumer(ctx, want); err != nil {
		return nil, fmt.Errorf("replace consumer: %w", err)
	}
	if _, err := journal.ResetConsumerToSequence(ctx, want.Durable, info.AckFloor.Stream+1); err != nil {
		return nil, fmt.Errorf("replace consumer: from %d: %w", info.AckFloor.Stream+1, err)
	}
	return info, nil
}

// Repositioned is where a replay moved a sink.
type Repositioned struct {
	Next   uint64   // the journal sequence the sink reads next
	Filter []string // the subjects its consumer receives (the sink's route); nil for every event
}

// Reposition makes the named sink re-read the journal from stream sequence
// seq on (the first event if seq is 0 or below it), leaving every other sink
// alone, and writes the events from there to the target again even where
// it holds them; only the events of the sink's filter, which its consumer
// applies. It moves the sink's saved progress, marked replayed; the
// replica delivering the sink notices at its next commit or idle pull, and
// starts a new term from there (a term moves the consumer to the progress).
func Reposition(ctx context.Context, js jetstream.JetStream, journalStream, sink string, seq uint64) (Repositioned, error) {
	name := ConsumerName(sink)
	c, err := js.Consumer(ctx, journalStream, name)
	if err != nil {
		if errors.Is(err, jetstream.ErrConsumerNotFound) {
			return Repositioned{}, fmt.Errorf("%w: %q (consumer %s on %s)", ErrUnknownSink, sink, name, journalStream)
		}
		return Repositioned{}, fmt.Errorf("replay %s: %w", sink, err)
	}
	out := Repositioned{Filter: consumerFilter(c.CachedInfo().Config)}
	s, err := js.Stream(ctx, journalStream)
	if err != nil {
		return Repositioned{}, fmt.Errorf("replay %s: %w", sink, err)
	}
	seq = max(seq, s.CachedInfo().State.FirstSeq, 1)
	kv, err := js.KeyValue(ctx, ProgressBucket(journalStream))
	if errors.Is(err, jetstream.ErrBucketNotFound) { // delivered by a version without saved progress
		resp, err := js.ResetConsumerToSequence(ctx, journalStream, name, seq)
		if err != nil {
			return Repositioned{}, fmt.Errorf("replay %s: reset consumer: %w", sink, err)
		}
		out.Next = resp.ResetSeq
		return out, nil
	}
	if err != nil {
		return Repositioned{}, fmt.Errorf("replay %s: %w", sink, err)
	}
	if err := replayProgress(ctx, kv, sink, seq); err != nil {
		return Repositioned{}, fmt.Errorf("replay %s: %w", sink, err)
	}
	out.Next = seq
	return out, nil
}

// SeqAt returns the journal sequence of the first event stored at or after
// t, or the sequence the next event will get if there is none.
func SeqAt(ctx context.Context, js jetstream.JetStream, journalStream string, t time.Time) (uint64, error) {
	s, err := js.Stream(ctx, journalStream)
	if err != nil {
		return 0, fmt.Errorf("seq at %s: %w", t.Format(time.RFC3339), err)
	}
	c, err := s.CreateConsumer(ctx, jetstream.ConsumerConfig{
		DeliverPolicy: jetstream.DeliverByStartTimePolicy, OptStartTime: &t,
		AckPolicy: jetstream.AckNonePolicy, MemoryStorage: true, InactiveThreshold: time.Minute,
	})
	if err != nil {
		return 0, fmt.Errorf("seq at %s: %w", t.Format(time.RFC3339), err)
	}
	defer func() { _ = s.DeleteConsumer(context.WithoutCancel(ctx), c.CachedInfo().Name) }()
	if c.CachedInfo().NumPending == 0 {
		return s.CachedInfo().State.LastSeq + 1, nil
	}
	b, err := c.Fetch(1, jetstream.FetchMaxWait(5*time.Second))
	if err != nil {
		return 0, fmt.Errorf("seq at %s: %w", t.Format(time.RFC3339), err)
	}
	if m, ok := <-b.Messages(); ok {
		meta, err := m.Metadata()
		if err != nil {
			return 0, fmt.Errorf("seq at %s: %w", t.Format(time.RFC3339), err)
		}
		return meta.Sequence.Stream, nil
	}
	return 0, fmt.Errorf("seq at %s: no event delivered: %v", t.Format(time.RFC3339), b.Error())
}
