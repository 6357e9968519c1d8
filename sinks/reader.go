package sinks

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
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
// has the journal deliver it again, in order, once the writer is idle.

// read is the reader's loop; it closes batches when close is called.
func (d *delivery) read(batches chan<- batch) {
	defer close(batches)
	var last chan struct{} // done of the last batch handed over
	for attempt := 0; !d.stopping(); {
		err := d.readFrom(batches, &last, attempt > 0)
		if d.stopping() {
			return
		}
		if err != nil {
			wait := backoff(attempt, d.cfg.RetryMin, d.cfg.RetryMax)
			d.track.fail(fmt.Errorf("read journal: %w", err), wait)
			attempt++
			if !d.sleep(wait, nil) {
				return
			}
		} else {
			attempt = 0
		}
		if !d.waitIdle(last) {
			return
		}
	}
}

var errPaused = errors.New("sinks: paused while the writer retries")

// readFrom rewinds the consumer to its ack floor, then hands batches over
// until close, a pause (nil) or an error. After failures (recovering), the
// first good fetch puts the sink back to delivering.
func (d *delivery) readFrom(batches chan<- batch, last *chan struct{}, recovering bool) error {
	h := d.h.Load()
	ctx, cancel := context.WithTimeout(d.hard, 10*time.Second)
	_, err := h.journal.ResetConsumer(ctx, ConsumerName(d.name))
	cancel()
	if err != nil {
		return fmt.Errorf("rewind: %w", err)
	}
	d.clearPause()
	for !d.stopping() {
		items, err := d.fetch(h.cons)
		if err == nil && recovering {
			d.track.set(StateDelivering)
			recovering = false
		}
		if d.pausing() {
			return nil // dropped: the rewind brings it back
		}
		if len(items) > 0 {
			b := batch{items: items, done: make(chan struct{})}
			select {
			case batches <- b:
				*last = b.done
			case <-d.stop:
				nakAll(items)
				return nil
			case <-d.paused:
				return nil // dropped: the rewind brings it back
			}
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// fetch pulls the next batch: up to Size events and Bytes bytes, waiting at
// most Wait. It never abandons the pull half way (deliveries would be left
// pending unseen), so it returns within Wait whatever happens.
func (d *delivery) fetch(cons jetstream.Consumer) ([]item, error) {
	opts := []jetstream.FetchOpt{jetstream.FetchMaxWait(d.batch.Wait)}
	if d.fetchBytes > 0 {
		opts = append(opts, jetstream.FetchMaxBytes(d.fetchBytes))
	}
	b, err := cons.Fetch(d.batch.Size, opts...)
	if err != nil {
		return nil, err
	}
	var items []item
	for m := range b.Messages() {
		items = append(items, decode(m))
	}
	return items, b.Error()
}

// pauseReader asks the reader to drop what it read ahead and to wait until
// the writer is idle: the batch being retried could outlast the journal's
// ack wait for messages held in advance.
func (d *delivery) pauseReader() {
	select {
	case d.paused <- struct{}{}:
	default:
	}
}

func (d *delivery) pausing() bool {
	select {
	case <-d.paused:
		return true
	default:
		return false
	}
}

func (d *delivery) clearPause() {
	for d.pausing() {
	}
}

// waitIdle waits until the writer has finished the last batch handed over;
// it returns false when close was called.
func (d *delivery) waitIdle(last chan struct{}) bool {
	if last == nil {
		return !d.stopping()
	}
	select {
	case <-last:
		return !d.stopping()
	case <-d.stop:
		return false
	}
}
