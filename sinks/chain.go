package sinks

import (
	"context"
	"errors"
	"fmt"
	"time"

	connector "github.com/agentphone-connector/connector"
	"github.com/agentphone-connector/connector/lease"
)

// A sink's delivery is a chain of small senders, each doing one thing and
// handing the batch on, as the OpenTelemetry Collector's exporterhelper
// composes an exporter (outermost first):
//
//	retry ─▶ fence ─▶ commit ─▶ deadLetter ─▶ idempotence ─▶ timeout ─▶ write ─▶ connector.Writer
//
// retry sends again, after a backoff with jitter, until every event is
// written, skipped or dead-lettered, or the term ends. fence starts no
// attempt once the lease may have ended, and lets none outlive it. commit,
// once the batch is settled, hands the sink's progress (the journal
// position and the writer's checkpoint) to the term's committer, which
// saves it and acknowledges the journal while the next batch is written.
// deadLetter publishes what the target refused for good; a publish that
// fails leaves the event to the next attempt. idempotence, before the
// term's first write, tells the writer what the last holder saved, so it
// skips what the target already holds. timeout bounds one write to the
// target. write calls the Writer with the batch's pending events and sorts
// the outcome per event.
//
// A sender only looks at the events still to do, so a retry holds only the
// events that failed, in their journal order.
type sender interface {
	send(ctx context.Context, b *batch) error
}

// errTermOver stops the retries: the term must end (the lease is lost, or
// the progress moved under it). The batch is left to the next term.
var errTermOver = errors.New("sinks: term over")

// errLeaseExpiring reports that the lease may end before the work could:
// the attempt is not made.
var errLeaseExpiring = errors.New("sinks: lease not renewed in time")

// retry sends until the batch is settled. It returns nil then, or
// errTermOver (wrapped) when the term ended first.
type retry struct {
	next     sender
	min, max time.Duration
	stop     <-chan struct{} // closed when the term ends
	track    *tracker
}

func (r retry) send(ctx context.Context, b *batch) error {
	for attempt := 0; ; attempt++ {
		err := r.next.send(ctx, b)
		switch {
		case errors.Is(err, errTermOver):
			return err
		case err == nil && b.settled():
			if attempt > 0 {
				r.track.set(StateDelivering)
			}
			return nil
		case err == nil:
			err = errors.New("sinks: batch not settled") // a sender forgot to say why
		}
		wait := connector.Backoff{Min: r.min, Max: r.max}.Delay(attempt)
		r.track.fail(err, wait)
		if !sleep(wait, r.stop) {
			return fmt.Errorf("%w: %w", errTermOver, err)
		}
	}
}

// sleep waits for d; false when stop closed first.
func sleep(d time.Duration, stop <-chan struct{}) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-stop:
		return false
	}
}

// fence makes an attempt only while the lease holds, within it.
type fence struct {
	next  sender
	lease *lease.Lease
}

func (f fence) send(ctx context.Context, b *batch) error {
	ctx, cancel, err := fenced(ctx, f.lease, 0)
	if err != nil {
		return err
	}
	defer cancel()
	return f.next.send(ctx, b)
}

// fenced returns a context that ends where the lease would (and after
// limit, if positive), or errLeaseExpiring when the holder may no longer act.
func fenced(ctx context.Context, l *lease.Lease, limit time.Duration) (context.Context, context.CancelFunc, error) {
	left := l.Left()
	if left <= 0 {
		return nil, nil, errLeaseExpiring
	}
	if limit > 0 {
		left = min(left, limit)
	}
	ctx, cancel := context.WithTimeout(ctx, left)
	return ctx, cancel, nil
}

// timeout bounds one write to the target.
type timeout struct {
	next sender
	d    time.Duration
}

func (t timeout) send(ctx context.Context, b *batch) error {
	ctx, cancel := context.WithTimeout(ctx, t.d)
	defer cancel()
	return t.next.send(ctx, b)
}

// write hands the batch's pending events to the Writer once and sorts the
// outcome: written, skipped (already in the target), rejected for good, or
// still pending (the first such error is returned).
type write struct {
	w       connector.Writer
	metrics sinkMetrics
	track   *tracker
}

func (wr write) send(ctx context.Context, b *batch) error {
	var idx []int
	var events []*connector.Event
	for i := range b.items {
		if b.items[i].state == pending {
			idx = append(idx, i)
			events = append(events, b.items[i].ev)
		}
	}
	if len(events) == 0 {
		return nil
	}
	start := time.Now()
	werr := wr.w.Write(ctx, events)
	wr.metrics.latency.Observe(time.Since(start).Seconds())
	var c counts
	var first error
	for j, i := range idx {
		it := &b.items[i]
		switch e := connector.ErrorAt(werr, j); {
		case e == nil:
			it.state = written
			c.delivered++
		case errors.Is(e, connector.ErrAlreadyWritten):
			it.state = skipped
			c.delivered++
			c.skipped++
		case connector.IsPermanent(e):
			it.state, it.reason = rejected, e
		default:
			c.failed++
			if first == nil {
				first = fmt.Errorf("write: %w", e)
			}
		}
	}
	wr.metrics.delivered.Add(float64(c.delivered))
	wr.metrics.skipped.Add(float64(c.skipped))
	wr.metrics.failures.Add(float64(c.failed))
	wr.track.add(c)
	return first
}
