package sinks

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	connector "github.com/agentphone-connector/connector"
)

// item is one journal message of a batch.
type item struct {
	msg jetstream.Msg
	seq uint64           // journal stream sequence
	ev  *connector.Event // nil when the message is not an event
	err error            // why it is not
}

// failed is an item the target rejected for good, with the reason.
type failed struct {
	it     item
	reason error
}

// batch is what the reader hands the writer loop: decoded items, and done,
// closed once the batch is acknowledged or handed back.
type batch struct {
	items []item
	done  chan struct{}
}

// run is the writer half of the sink's loop: it finishes each batch the
// reader hands it, in order, until the reader closes the channel.
func (d *delivery) run(batches <-chan batch) {
	for b := range batches {
		ok := d.process(b.items)
		close(b.done)
		if !ok {
			for b := range batches { // closed with a batch unfinished; the reader hands back its own
				close(b.done)
			}
			return
		}
	}
}

func (d *delivery) stopping() bool {
	select {
	case <-d.stop:
		return true
	default:
		return false
	}
}

func decode(m jetstream.Msg) item {
	it := item{msg: m}
	if meta, err := m.Metadata(); err == nil {
		it.seq = meta.Sequence.Stream
	}
	it.ev, it.err = connector.Unmarshal(m.Data())
	return it
}

// process finishes one batch: every event written or dead-lettered, then
// the whole batch acknowledged. Failed writes are retried in place, only the
// failed events and in their order, until they succeed or close is called;
// then the batch goes back to the journal unacknowledged and process
// returns false.
func (d *delivery) process(items []item) bool {
	todo, dead := splitUndecodable(items)
	alive := newKeepAlive(items, d.cfg.AckWait/4)
	paused := false
	for attempt := 0; ; attempt++ {
		var err error
		if len(todo) > 0 {
			alive.touch(d.now())
			var rejected []failed
			todo, rejected, err = d.write(todo)
			dead = append(dead, rejected...)
		}
		var dlqErr error
		dead, dlqErr = d.deadLetter(dead)
		if len(todo) == 0 && len(dead) == 0 {
			break
		}
		err = errors.Join(err, dlqErr)
		if !paused {
			d.pauseReader()
			paused = true
		}
		wait := backoff(attempt, d.cfg.RetryMin, d.cfg.RetryMax)
		d.track.fail(err, wait)
		if !d.sleep(wait, alive) {
			nakAll(items)
			return false
		}
	}
	ackAll(items, paused)
	d.track.set(StateDelivering)
	return true
}

// ackAll acknowledges a finished batch; a lost ack means a redelivery, which
// targets drop by event ID. When the reader waits to rewind (confirm), the
// last ack waits for the journal's confirmation, so that the rewind starts
// past the batch instead of writing it again.
func ackAll(items []item, confirm bool) {
	last := len(items) - 1
	for _, it := range items[:last] {
		_ = it.msg.Ack()
	}
	if !confirm {
		_ = items[last].msg.Ack()
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = items[last].msg.DoubleAck(ctx)
}

func splitUndecodable(items []item) (todo []item, dead []failed) {
	for _, it := range items {
		if it.ev == nil {
			dead = append(dead, failed{it, connector.Permanent(fmt.Errorf("decode journal message: %w", it.err))})
			continue
		}
		todo = append(todo, it)
	}
	return todo, dead
}

// write hands todo to the Writer once and sorts the outcome: events to retry
// (in their order), events rejected for good, and the first transient error.
func (d *delivery) write(todo []item) (retry []item, rejected []failed, err error) {
	batch := make([]*connector.Event, len(todo))
	for i, it := range todo {
		batch[i] = it.ev
	}
	ctx, cancel := context.WithTimeout(d.hard, d.cfg.WriteTimeout)
	start := time.Now()
	werr := d.w.Write(ctx, batch)
	cancel()
	d.latency.Observe(time.Since(start).Seconds())
	var c counts
	for i, it := range todo {
		switch e := connector.ErrorAt(werr, i); {
		case e == nil:
			c.delivered++
		case connector.IsPermanent(e):
			rejected = append(rejected, failed{it, e})
		default:
			retry = append(retry, it)
			c.failed++
			if err == nil {
				err = fmt.Errorf("write: %w", e)
			}
		}
	}
	d.delivered.Add(float64(c.delivered))
	d.failures.Add(float64(c.failed))
	d.track.add(c)
	return retry, rejected, err
}

// deadLetter publishes each rejected event to the dead-letter stream and
// returns those it could not publish, to be tried again.
func (d *delivery) deadLetter(dead []failed) ([]failed, error) {
	var left []failed
	var firstErr error
	n := 0
	for _, f := range dead {
		ctx, cancel := context.WithTimeout(d.hard, d.cfg.WriteTimeout)
		err := d.dlq.publish(ctx, d.name, f.it, f.reason)
		cancel()
		if err != nil {
			left = append(left, f)
			firstErr = cmpOr(firstErr, err)
			continue
		}
		n++
	}
	if n > 0 {
		d.dead.Add(float64(n))
		d.track.add(counts{dead: uint64(n)})
		d.log.Warn("events dead-lettered", "sink", d.name, "count", n, "first_seq", dead[0].it.seq, "reason", dead[0].reason)
	}
	return left, firstErr
}

func cmpOr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

// sleep waits for wait, keeping the batch alive meanwhile (nil: no batch);
// it returns false when close was called.
func (d *delivery) sleep(wait time.Duration, alive *keepAlive) bool {
	t := time.NewTimer(wait)
	defer t.Stop()
	var tick <-chan time.Time
	if alive != nil {
		tk := time.NewTicker(alive.every)
		defer tk.Stop()
		tick = tk.C
	}
	for {
		select {
		case <-t.C:
			return true
		case <-tick:
			alive.touch(d.now())
		case <-d.stop:
			return false
		}
	}
}

func nakAll(items []item) {
	for _, it := range items {
		_ = it.msg.Nak()
	}
}

// keepAlive tells the journal that a held batch is still being worked on, so
// it is not redelivered while it is retried.
type keepAlive struct {
	items []item
	every time.Duration
	last  time.Time
}

func newKeepAlive(items []item, every time.Duration) *keepAlive {
	return &keepAlive{items: items, every: every}
}

// touch sends "in progress" for the batch if the last one is older than every.
func (k *keepAlive) touch(now time.Time) {
	if k.last.IsZero() {
		k.last = now // just delivered: the ack wait starts now
		return
	}
	if now.Sub(k.last) < k.every {
		return
	}
	k.last = now
	for _, it := range k.items {
		_ = it.msg.InProgress()
	}
}
