package sinks

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"

	connector "github.com/agentphone-connector/connector"
)

// delivery runs one sink on this replica: it stands by while another
// replica holds the sink's lease, and delivers while this one does.
type delivery struct {
	name  string
	w     connector.Writer
	batch Batching
	cfg   Config
	dlq   *deadLetters
	log   *slog.Logger
	now   func() time.Time
	track *tracker

	delivered, dead, failures prometheus.Counter
	latency                   prometheus.Observer
	held                      prometheus.Gauge       // 1 while this replica holds the lease
	changes                   *prometheus.CounterVec // lease changes, by change
	rewound                   prometheus.Counter

	js         jetstream.JetStream              // set by start
	journal    atomic.Pointer[jetstream.Stream] // set by start
	fetchBytes int                              // Batching.Bytes, raised to fit the largest event

	quit   chan struct{}      // closed by close: finish the batch in hand, then release the lease
	base   context.Context    // cancelled when close gives up waiting: abandon the write in flight
	cancel context.CancelFunc //
	done   chan struct{}      // closed when the ownership loop has returned
}

func newDelivery(r *Runner, s Sink, m *metrics) *delivery {
	base, cancel := context.WithCancel(context.Background())
	d := &delivery{
		name: s.Name, w: s.Writer, batch: s.Batch, cfg: r.cfg, dlq: r.dlq, log: r.log, now: r.now,
		delivered: m.events.WithLabelValues(s.Name, "delivered"),
		dead:      m.events.WithLabelValues(s.Name, "dead_lettered"),
		failures:  m.failures.WithLabelValues(s.Name),
		latency:   m.latency.WithLabelValues(s.Name),
		held:      m.held.WithLabelValues(s.Name),
		changes:   m.changes.MustCurryWith(prometheus.Labels{"sink": s.Name}),
		rewound:   m.rewound.WithLabelValues(s.Name),
		quit:      make(chan struct{}), base: base, cancel: cancel, done: make(chan struct{}),
	}
	d.track = newTracker(s.Name, r.replica, r.log, r.now, m.healthy.WithLabelValues(s.Name).Set)
	return d
}

// start runs the sink's ownership loop on the journal stream, with leases
// from ls, until close.
func (d *delivery) start(js jetstream.JetStream, journal jetstream.Stream, ls *leases) {
	d.js = js
	d.journal.Store(&journal)
	maxPayload := int(js.Conn().MaxPayload())
	d.fetchBytes = d.batch.Bytes
	if maxMsg := maxPayload + 4096; d.fetchBytes > 0 && d.fetchBytes < maxMsg {
		d.fetchBytes = maxMsg // a batch must fit the largest event, or the journal would never hand it out
	}
	go d.own(ls)
}

// close stops the sink: the batch in hand is finished and the lease
// released, or the batch is abandoned when ctx ends first (the next holder
// reads it again). A sink never started is simply marked stopped.
func (d *delivery) close(ctx context.Context, started bool) error {
	defer d.cancel()
	close(d.quit)
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

// sleep waits for wait; it returns false when close was called.
func (d *delivery) sleep(wait time.Duration) bool {
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-d.quit:
		return false
	}
}

// Lag is how far a sink is behind the journal.
type Lag struct {
	Pending   uint64        // events not acknowledged: not delivered yet plus in flight
	OldestAge time.Duration // age of the oldest of them; 0 when there is none
}

var errNotStarted = errors.New("sinks: sink not started")

// lag asks the journal how far the sink's consumer is behind; any replica
// can, holder or not.
func (d *delivery) lag(ctx context.Context) (Lag, error) {
	p := d.journal.Load()
	if p == nil {
		return Lag{}, errNotStarted
	}
	journal := *p
	c, err := journal.Consumer(ctx, ConsumerName(d.name))
	if err != nil {
		return Lag{}, fmt.Errorf("sink %s lag: %w", d.name, err)
	}
	info := c.CachedInfo()
	lag := Lag{Pending: info.NumPending + uint64(info.NumAckPending)}
	if lag.Pending == 0 {
		return lag, nil
	}
	oldest, err := oldest(ctx, journal, info.AckFloor.Stream+1)
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
