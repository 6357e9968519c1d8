package sinks

import (
	"context"
	"fmt"
	"time"
)

// The reader half of a sink's loop reads the journal ahead of the writer:
// while one batch is written, the next is pulled and decoded.
//
//	journal ══stream of messages══▶ reader: assemble, decode ──batch──▶ writer: write, ack
//	   ▲                               │ pause (the writer retries) or error:
//	   └──rewind to the ack floor◀─────┘ drop what is read ahead, wait for the writer
//
// What the reader holds beyond the writer's batch is never acknowledged, so
// dropping it loses nothing: a rewind (a consumer reset to its ack floor)
// has the journal deliver it again, in order, once the writer is idle. The
// first rewind of a term also brings back what the previous holder had read
// and not acknowledged.

// loop is one term's reader and writer.
type loop struct {
	*delivery
	*term
	pull *puller // set by the term's first rewind
}

// read is the reader's loop; it closes batches when the term ends.
func (lp *loop) read(batches chan<- batch) {
	defer close(batches)
	var last chan struct{} // done of the last batch handed over
	for attempt := 0; !lp.stopping(); {
		err := lp.readFrom(batches, &last, attempt > 0)
		if lp.stopping() {
			return
		}
		if err != nil {
			wait := backoff(attempt, lp.cfg.RetryMin, lp.cfg.RetryMax)
			lp.track.fail(fmt.Errorf("read journal: %w", err), wait)
			attempt++
			if !lp.wait(wait, nil) {
				return
			}
		} else {
			attempt = 0
		}
		if !lp.waitIdle(last) {
			return
		}
	}
}

// readFrom rewinds the consumer to its ack floor, then hands batches over
// until the term ends, a pause (nil) or an error. After failures
// (recovering), the first good fetch puts the sink back to delivering.
func (lp *loop) readFrom(batches chan<- batch, last *chan struct{}, recovering bool) error {
	if err := lp.rewind(); err != nil {
		return err
	}
	lp.clearPause()
	for !lp.stopping() {
		items, err := lp.fetch()
		if err == nil && recovering {
			lp.track.set(StateDelivering)
			recovering = false
		}
		if lp.pausing() {
			return nil // dropped: the rewind brings it back
		}
		if len(items) > 0 {
			b := batch{items: items, done: make(chan struct{})}
			select {
			case batches <- b:
				*last = b.done
			case <-lp.stop:
				return nil // dropped: the next term rewinds
			case <-lp.paused:
				return nil // dropped: the rewind brings it back
			}
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// rewind resets the consumer to its ack floor, within the lease; the term's
// first rewind makes sure the consumer exists and is as configured.
func (lp *loop) rewind() error {
	left := lp.lease.until()
	if left <= 0 {
		return errLeaseExpiring
	}
	ctx, cancel := context.WithTimeout(lp.hard, min(left, 10*time.Second))
	defer cancel()
	journal := *lp.journal.Load()
	if lp.pull == nil {
		unacked, err := ensureConsumer(ctx, journal, consumerConfig(lp.name, lp.batch, lp.cfg))
		if err != nil {
			return fmt.Errorf("consumer: %w", err)
		}
		lp.pull = newPuller(lp.js, journal.CachedInfo().Config.Name, ConsumerName(lp.name))
		if unacked > 0 {
			lp.rewound.Add(float64(unacked))
			lp.log.Info("sink reads again what was read and not acknowledged before this term", "sink", lp.name, "events", unacked)
		}
	}
	if _, err := journal.ResetConsumer(ctx, ConsumerName(lp.name)); err != nil {
		return fmt.Errorf("rewind: %w", err)
	}
	return nil
}

// fetch pulls the next batch: up to Size events and Bytes bytes, waiting at
// most Wait, and never past the lease (deliveries to a pull request left
// open could reach this replica after another took over). It waits for the
// journal to end the pull rather than abandon it half way (deliveries would
// be left pending unseen); only a journal that does not answer a second
// after the wait is given up on, and the error makes the reader rewind.
func (lp *loop) fetch() ([]item, error) {
	wait := min(lp.batch.Wait, lp.lease.until())
	if wait < time.Millisecond {
		return nil, errLeaseExpiring
	}
	return lp.pull.fetch(lp.batch.Size, lp.fetchBytes, wait)
}

// pauseReader asks the reader to drop what it read ahead and to wait until
// the writer is idle: the batch being retried could outlast the journal's
// ack wait for messages held in advance.
func (lp *loop) pauseReader() {
	select {
	case lp.paused <- struct{}{}:
	default:
	}
}

func (lp *loop) pausing() bool {
	select {
	case <-lp.paused:
		return true
	default:
		return false
	}
}

func (lp *loop) clearPause() {
	for lp.pausing() {
	}
}

// waitIdle waits until the writer has finished the last batch handed over;
// it returns false when the term ended.
func (lp *loop) waitIdle(last chan struct{}) bool {
	if last == nil {
		return !lp.stopping()
	}
	select {
	case <-last:
		return !lp.stopping()
	case <-lp.stop:
		return false
	}
}
