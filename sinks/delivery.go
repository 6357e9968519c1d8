package sinks

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync/atomic"

	"github.com/nats-io/nats.go/jetstream"

	connector "github.com/agentphone-connector/connector"
	"github.com/agentphone-connector/connector/lease"
)

// delivery runs one sink on this replica: it stands by while another
// replica holds the sink's lease, and delivers in terms while this one
// does. It owns the sink's state (track); the chain reports to it.
type delivery struct {
	name   string
	w      connector.Writer
	batch  Batching
	filter []string // the consumer's filter subjects; nil for every event
	cfg    Config
	dlq    *deadLetters
	log    *slog.Logger
	track  *tracker
	m      sinkMetrics

	js         jetstream.JetStream              // set by start
	journal    atomic.Pointer[jetstream.Stream] // set by start
	progress   jetstream.KeyValue               // set by start
	leases     *lease.Bucket                    // set by start
	fetchBytes int                              // Batching.Bytes, raised to fit the largest event

	quit   chan struct{}      // closed by close: finish the batch in hand, then release the lease
	base   context.Context    // cancelled when close gives up waiting: abandon the write in flight
	cancel context.CancelFunc //
	done   chan struct{}      // closed when the ownership loop has returned
}

func newDelivery(r *Runner, s Sink, m *metrics) *delivery {
	base, cancel := context.WithCancel(context.Background())
	d := &delivery{
		name: s.Name, w: s.Writer, batch: s.Batch, filter: s.Filter, cfg: r.cfg, dlq: r.dlq, log: r.log, m: m.of(s.Name),
		quit: make(chan struct{}), base: base, cancel: cancel, done: make(chan struct{}),
	}
	d.track = newTracker(s.Name, r.replica, r.log, r.now, d.m.healthy)
	return d
}

// start runs the sink's ownership loop until close.
func (d *delivery) start(js jetstream.JetStream, journal jetstream.Stream, progress jetstream.KeyValue, leases *lease.Bucket) {
	d.js, d.progress, d.leases = js, progress, leases
	d.journal.Store(&journal)
	d.fetchBytes = d.batch.Bytes
	if maxMsg := int(js.Conn().MaxPayload()) + 4096; d.fetchBytes > 0 && d.fetchBytes < maxMsg {
		d.fetchBytes = maxMsg // a batch must fit the largest event, or the journal would never hand it out
	}
	go d.own()
}

// own stands by until this replica gets the sink's lease, delivers while
// it holds it, and stands by again when it loses it, until close.
func (d *delivery) own() {
	defer close(d.done)
	defer d.track.set(StateStopped)
	for {
		l := d.standBy()
		if l == nil || !d.hold(l) {
			return
		}
	}
}

// standBy tries to take the lease every TTL/40 to TTL/20 (at random, so
// that standbys do not ask in step) until it has it; nil when close was
// called. A lease under this replica's own name is taken back at once.
func (d *delivery) standBy() *lease.Lease {
	every := d.leases.TTL() / 20
	for {
		ctx, cancel := context.WithTimeout(d.base, d.leases.Every())
		l, err := d.leases.Acquire(ctx, d.name)
		cancel()
		var held *lease.HeldError
		switch {
		case err == nil:
			return l
		case errors.As(err, &held):
			d.track.standBy(held.Holder)
		default:
			d.track.fail(err, every)
		}
		if !sleep(every/2+rand.N(every/2+1), d.quit) {
			return nil
		}
	}
}

// hold delivers the sink in terms while the lease holds, renewing it, and
// returns true when the lease was lost, false when close was called (the
// batch in hand finished and the lease released).
func (d *delivery) hold(l *lease.Lease) bool {
	d.track.hold()
	d.m.held.Set(1)
	d.m.changes.WithLabelValues("acquired").Inc()
	defer d.m.held.Set(0)
	keepCtx, stopKeep := context.WithCancel(d.base)
	defer stopKeep()
	lost := make(chan error, 1)
	go func() { lost <- l.Keep(keepCtx) }()
	quit := d.quit
	for attempt := 0; ; attempt++ {
		t := newTerm(d.base)
		ended := make(chan error, 1)
		go func() { ended <- d.runTerm(t, l) }()
		var err error
		for waiting := true; waiting; {
			select {
			case <-quit:
				quit = nil
				t.end() // keep renewing while the batch in hand finishes
			case lerr := <-lost:
				if lerr == nil { // close gave up waiting: abandon the term, let the lease lapse
					t.end()
					t.cancel()
					<-ended
					return false
				}
				d.loseLease(l, lerr, t)
				<-ended
				return true
			case err = <-ended:
				waiting = false
			}
		}
		t.cancel()
		if quit == nil {
			d.release(l)
			return false
		}
		if err == nil || errors.Is(err, errProgressMoved) {
			if err != nil {
				d.log.Info("sink progress moved (a replay); starting again from it", "sink", d.name)
			}
			attempt = -1
			continue
		}
		wait := connector.Backoff{Min: d.cfg.RetryMin, Max: d.cfg.RetryMax}.Delay(attempt)
		d.track.fail(err, wait)
		if !sleep(wait, d.quit) {
			d.release(l)
			return false
		}
	}
}

// loseLease ends the term at once: the lease is another's, or may lapse.
func (d *delivery) loseLease(l *lease.Lease, err error, t *term) {
	d.m.held.Set(0)
	d.m.changes.WithLabelValues("lost").Inc()
	d.log.Warn("sink lease lost; stopping, another replica takes the sink over", "sink", d.name, "replica", l.Holder(), "reason", err)
	t.end()
	t.cancel() // a write in flight ends at the lease's deadline anyway
	d.track.lose()
}

// release deletes the lease so that a standby takes over at once.
func (d *delivery) release(l *lease.Lease) {
	ctx, cancel := context.WithTimeout(d.base, d.leases.Every())
	defer cancel()
	if err := l.Release(ctx); err != nil {
		d.log.Warn("sink lease not released; it lapses by itself", "sink", d.name, "error", err)
		return
	}
	d.m.changes.WithLabelValues("released").Inc()
	d.log.Info("sink lease released", "sink", d.name, "replica", l.Holder())
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
	<-d.done // Write honours ctx, a pull ends within the batch wait
	return fmt.Errorf("sink %s: batch abandoned on close: %w", d.name, ctx.Err())
}
