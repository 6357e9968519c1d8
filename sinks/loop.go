package sinks

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"

	connector "github.com/agentphone-connector/connector"
)

// item is one journal message of a batch.
type item struct {
	msg *nats.Msg
	ev  *connector.Event // nil when the message is not an event; refers to msg's data
	err error            // why it is not
}

// seq returns the message's journal stream sequence, 0 if it cannot tell.
func (it item) seq() uint64 {
	meta, err := it.msg.Metadata()
	if err != nil {
		return 0
	}
	return meta.Sequence.Stream
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
func (lp *loop) run(batches <-chan batch) {
	for b := range batches {
		ok := lp.process(b.items)
		close(b.done)
		if !ok {
			for b := range batches { // ended with a batch unfinished; the next term rewinds
				close(b.done)
			}
			return
		}
	}
}

// decode reads a journal message. The event refers to the message's data,
// which nothing modifies and which lives as long as the event.
func decode(m *nats.Msg) item {
	it := item{msg: m}
	it.ev, it.err = connector.UnmarshalNoCopy(m.Data)
	return it
}

// process finishes one batch: every event written or dead-lettered, then
// the whole batch acknowledged. Failed writes are retried in place, only the
// failed events and in their order, until they succeed or the term ends;
// then the batch is left unacknowledged (the next term rewinds to it) and
// process returns false.
func (lp *loop) process(items []item) bool {
	todo, dead := splitUndecodable(items)
	alive := newKeepAlive(items, lp.cfg.AckWait/4)
	paused := false
	for attempt := 0; ; attempt++ {
		var err error
		if len(todo) > 0 {
			alive.touch(lp.now())
			var rejected []failed
			todo, rejected, err = lp.write(todo)
			dead = append(dead, rejected...)
		}
		var dlqErr error
		dead, dlqErr = lp.deadLetter(dead)
		if len(todo) == 0 && len(dead) == 0 {
			break
		}
		err = errors.Join(err, dlqErr)
		if !paused {
			lp.pauseReader()
			paused = true
		}
		wait := backoff(attempt, lp.cfg.RetryMin, lp.cfg.RetryMax)
		lp.track.fail(err, wait)
		if !lp.wait(wait, alive) {
			return false
		}
	}
	ack(items, paused || lp.stopping())
	lp.track.set(StateDelivering)
	return true
}

// ack acknowledges a finished batch with one ack of its last message: the
// consumer acknowledges all (the lease makes this replica its only reader,
// and batches come in journal order). A lost ack means a redelivery, which
// targets drop by event ID. When the reader waits to rewind or the term
// ends (confirm), the ack waits for the journal's confirmation, so that the
// rewind, or the next holder, starts past the batch instead of writing it
// again.
func ack(items []item, confirm bool) {
	last := items[len(items)-1].msg
	if !confirm {
		_ = last.Ack()
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = last.AckSync(nats.Context(ctx))
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
func (lp *loop) write(todo []item) (retry []item, rejected []failed, err error) {
	ctx, cancel, err := lp.fenced()
	if err != nil {
		return todo, nil, err
	}
	batch := make([]*connector.Event, len(todo))
	for i, it := range todo {
		batch[i] = it.ev
	}
	start := time.Now()
	werr := lp.w.Write(ctx, batch)
	cancel()
	lp.latency.Observe(time.Since(start).Seconds())
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
	lp.delivered.Add(float64(c.delivered))
	lp.failures.Add(float64(c.failed))
	lp.track.add(c)
	return retry, rejected, err
}

// fenced returns the context of one write to the target or the dead-letter
// stream: it ends after the write timeout or where the lease would, and
// there is none once the lease may have ended (errLeaseExpiring).
func (lp *loop) fenced() (context.Context, context.CancelFunc, error) {
	left := lp.lease.until()
	if left <= 0 {
		return nil, nil, errLeaseExpiring
	}
	ctx, cancel := context.WithTimeout(lp.hard, min(left, lp.cfg.WriteTimeout))
	return ctx, cancel, nil
}

// deadLetter publishes each rejected event to the dead-letter stream and
// returns those it could not publish, to be tried again.
func (lp *loop) deadLetter(dead []failed) ([]failed, error) {
	var left []failed
	var firstErr error
	n := 0
	for _, f := range dead {
		ctx, cancel, err := lp.fenced()
		if err == nil {
			err = lp.dlq.publish(ctx, lp.name, f.it, f.reason)
			cancel()
		}
		if err != nil {
			left = append(left, f)
			firstErr = cmpOr(firstErr, err)
			continue
		}
		n++
	}
	if n > 0 {
		lp.dead.Add(float64(n))
		lp.track.add(counts{dead: uint64(n)})
		lp.log.Warn("events dead-lettered", "sink", lp.name, "count", n, "first_seq", dead[0].it.seq(), "reason", dead[0].reason)
	}
	return left, firstErr
}

func cmpOr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

// wait waits for wait, keeping the batch alive meanwhile (nil: no batch);
// it returns false when the term ended.
func (lp *loop) wait(wait time.Duration, alive *keepAlive) bool {
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
			alive.touch(lp.now())
		case <-lp.stop:
			return false
		}
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
