package sinks

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	connector "github.com/agentphone-connector/connector"
	"github.com/agentphone-connector/connector/lease"
)

// term is one stretch of delivering under a held lease: it rewinds the
// journal to the sink's saved progress, then reads and sends batches down
// the chain until it is ended or fails.
type term struct {
	stop    chan struct{}      // closed: finish the batch in hand, read no more
	ctx     context.Context    // cancelled: abandon the write in flight
	cancel  context.CancelFunc //
	once    sync.Once
	outside atomic.Bool // ended by close or a lost lease, not by its own failure
}

func newTerm(base context.Context) *term {
	ctx, cancel := context.WithCancel(base)
	return &term{stop: make(chan struct{}), ctx: ctx, cancel: cancel}
}

// end asks the term to finish the batch in hand and read no more.
func (t *term) end() {
	t.outside.Store(true)
	t.halt()
}

// halt stops the term's reading after a failure of its own.
func (t *term) halt() { t.once.Do(func() { close(t.stop) }) }

// readAhead is how many batches the reader may hold, decoded and prepared,
// beyond the one the chain writes: reading then fills the time the chain
// waits on the target instead of competing with its writes (about 10% more
// events a second into Kafka on two cores, BenchmarkJournalToKafka).
const readAhead = 2

// runTerm delivers until the term is ended (nil) or fails (the error; the
// caller backs off and starts a new term while it holds the lease).
func (d *delivery) runTerm(t *term, l *lease.Lease) error {
	rd, from, err := d.rewind(t.ctx, l)
	if err != nil {
		return err
	}
	d.track.set(StateDelivering) // after a failed term, the journal answers again
	c := newCommitter(from, l, d.track, connector.Backoff{Min: d.cfg.RetryMin, Max: d.cfg.RetryMax}, t.halt)
	chain := d.chain(t, l, from, c)
	batches := make(chan *batch, readAhead)
	var readErr error
	var wg sync.WaitGroup
	wg.Go(func() { readErr = rd.run(t.ctx, batches, t.stop) })
	var sendErr error
	for b := range batches {
		if sendErr != nil {
			continue // the term is over: what was read ahead is read again next term
		}
		if err := chain.send(t.ctx, b); err != nil {
			sendErr = err
			t.halt()
		}
	}
	wg.Wait()
	moved := c.finish()
	switch {
	case moved:
		return errProgressMoved
	case t.outside.Load():
		return nil
	case sendErr != nil:
		return sendErr
	case readErr != nil:
		return fmt.Errorf("read journal: %w", readErr)
	}
	return nil
}

// chain builds the term's chain around the sink's Writer.
func (d *delivery) chain(t *term, l *lease.Lease, from *progress, c *committer) sender {
	rw, _ := d.w.(Resumable)
	var s sender = write{w: d.w, metrics: d.m, track: d.track}
	s = timeout{next: s, d: d.cfg.WriteTimeout}
	s = &idempotence{next: s, w: rw, progress: from, from: Resume{State: from.last.State, Replayed: from.last.Replayed}}
	s = deadLetter{next: s, dlq: d.dlq, sink: d.name, dead: func(n int) { d.m.dead.Add(float64(n)) }, log: d.log, track: d.track}
	s = commit{next: s, committer: c, w: rw}
	s = fence{next: s, lease: l}
	return retry{next: s, min: d.cfg.RetryMin, max: d.cfg.RetryMax, stop: t.stop, track: d.track}
}

// preparer returns the Writer's Prepare, or nil when it has none.
func preparer(w connector.Writer) func([]*connector.Event) {
	if p, ok := w.(Preparer); ok {
		return p.Prepare
	}
	return nil
}

// rewind makes sure of the sink's consumer and moves it back to just after
// the saved progress (to its ack floor when nothing was saved yet), so the
// term reads, in journal order, everything not committed before it.
func (d *delivery) rewind(ctx context.Context, l *lease.Lease) (*reader, *progress, error) {
	ctx, cancel, err := fenced(ctx, l, 10*time.Second)
	if err != nil {
		return nil, nil, err
	}
	defer cancel()
	journal := *d.journal.Load()
	info, err := ensureConsumer(ctx, journal, consumerConfig(d.name, d.filter, d.batch, d.cfg))
	if err != nil {
		return nil, nil, fmt.Errorf("consumer: %w", err)
	}
	p, found, err := loadProgress(ctx, d.progress, d.name)
	if err != nil {
		return nil, nil, err
	}
	name, from := ConsumerName(d.name), info.AckFloor.Stream+1
	if found {
		from = p.last.Seq + 1
	}
	if _, err = journal.ResetConsumerToSequence(ctx, name, from); err != nil {
		return nil, nil, fmt.Errorf("rewind: %w", err)
	}
	rd := &reader{
		pull: newPuller(d.js, journal.CachedInfo().Config.Name, name), batch: d.batch, bytes: d.fetchBytes,
		prepare: preparer(d.w),
		lease:   l, high: info.Delivered.Stream, rewound: func(n int) { d.m.rewound.Add(float64(n)) },
		moved: func() (bool, error) {
			ctx, cancel := context.WithTimeout(context.Background(), d.batch.Wait+time.Second)
			defer cancel()
			return p.moved(ctx)
		},
	}
	return rd, p, nil
}
