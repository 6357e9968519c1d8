package sinks

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"

	connector "github.com/agentphone-connector/connector"
)

// delivery runs one sink: its consumer, its loop and its state.
type delivery struct {
	name   string
	w      connector.Writer
	batch  Batching
	cfg    Config
	js     jetstream.JetStream
	stream string
	dlq    *deadLetters
	log    *slog.Logger
	now    func() time.Time
	track  *tracker

	delivered, dead, failures prometheus.Counter
	latency                   prometheus.Observer

	h          atomic.Pointer[handles] // set by start
	fetchBytes int                     // Batching.Bytes, raised to fit the largest event

	stop   chan struct{}      // closed by close: finish the batch in hand, read no more
	hard   context.Context    // cancelled when close gives up waiting: abandon the write in flight
	cancel context.CancelFunc //
	paused chan struct{}      // the writer retries: the reader drops what it read ahead
	done   chan struct{}      // closed when the reader and the writer have returned
}

func newDelivery(r *Runner, s Sink, m *metrics) *delivery {
	hard, cancel := context.WithCancel(context.Background())
	d := &delivery{
		name: s.Name, w: s.Writer, batch: s.Batch, cfg: r.cfg, js: r.js, stream: r.journal, dlq: r.dlq,
		log: r.log, now: r.now,
		delivered: m.events.WithLabelValues(s.Name, "delivered"),
		dead:      m.events.WithLabelValues(s.Name, "dead_lettered"),
		failures:  m.failures.WithLabelValues(s.Name),
		latency:   m.latency.WithLabelValues(s.Name),
		stop:      make(chan struct{}), hard: hard, cancel: cancel, done: make(chan struct{}),
		paused: make(chan struct{}, 1),
	}
	d.track = newTracker(s.Name, r.log, r.now, m.healthy.WithLabelValues(s.Name).Set)
	return d
}

// handles are the journal's consumer and stream of a started sink.
type handles struct {
	cons    jetstream.Consumer
	journal jetstream.Stream
}

// start makes sure the consumer exists and starts the reader and the
// writer. The reader's first step rewinds the consumer to its ack floor, so
// whatever a previous process held unacknowledged comes again, in order.
func (d *delivery) start(ctx context.Context) error {
	s, err := d.js.Stream(ctx, d.stream)
	if err != nil {
		return fmt.Errorf("sink %s: journal %s: %w", d.name, d.stream, err)
	}
	c, err := s.CreateOrUpdateConsumer(ctx, consumerConfig(d.name, d.batch, d.cfg))
	if err != nil {
		return fmt.Errorf("sink %s: consumer: %w", d.name, err)
	}
	d.h.Store(&handles{cons: c, journal: s})
	d.fetchBytes = d.batch.Bytes
	if maxMsg := int(d.js.Conn().MaxPayload()) + 4096; d.fetchBytes > 0 && d.fetchBytes < maxMsg {
		d.fetchBytes = maxMsg // a batch must fit the largest event, or the journal would never hand it out
	}
	d.track.set(StateDelivering)
	batches := make(chan batch)
	var wg sync.WaitGroup
	wg.Go(func() { d.read(batches) })
	wg.Go(func() { d.run(batches) })
	go func() {
		wg.Wait()
		d.track.set(StateStopped)
		close(d.done)
	}()
	return nil
}

// close stops the loop: the batch in hand is finished, or abandoned (and
// handed back to the journal) when ctx ends first. A loop never started is
// simply marked stopped.
func (d *delivery) close(ctx context.Context, started bool) error {
	defer d.cancel()
	close(d.stop)
	if !started {
		d.track.set(StateStopped)
		return nil
	}
	select {
	case <-d.done:
		return nil
	case <-ctx.Done():
	}
	d.cancel()
	<-d.done // Write honours ctx, the reader wakes within the batch wait
	return fmt.Errorf("sink %s: batch abandoned on close: %w", d.name, ctx.Err())
}

// Lag is how far a sink is behind the journal.
type Lag struct {
	Pending   uint64        // events not acknowledged: not delivered yet plus in flight
	OldestAge time.Duration // age of the oldest of them; 0 when there is none
}

var errNotStarted = errors.New("sinks: sink not started")

// lag asks the journal how far the sink's consumer is behind.
func (d *delivery) lag(ctx context.Context) (Lag, error) {
	h := d.h.Load()
	if h == nil {
		return Lag{}, errNotStarted
	}
	info, err := h.cons.Info(ctx)
	if err != nil {
		return Lag{}, fmt.Errorf("sink %s lag: %w", d.name, err)
	}
	lag := Lag{Pending: info.NumPending + uint64(info.NumAckPending)}
	if lag.Pending == 0 {
		return lag, nil
	}
	oldest, err := oldest(ctx, h.journal, info.AckFloor.Stream+1)
	if err != nil {
		return lag, fmt.Errorf("sink %s lag: %w", d.name, err)
	}
	lag.OldestAge = max(d.now().Sub(oldest), 0)
	return lag, nil
}

// oldest returns the time of the first stored event at or after seq.
func oldest(ctx context.Context, journal jetstream.Stream, seq uint64) (time.Time, error) {
	m, err := journal.GetMsg(ctx, seq)
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		info, ierr := journal.Info(ctx)
		if ierr != nil {
			return time.Time{}, ierr
		}
		m, err = journal.GetMsg(ctx, max(seq, info.State.FirstSeq))
	}
	if err != nil {
		return time.Time{}, err
	}
	return m.Time, nil
}
