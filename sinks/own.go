package sinks

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"
)

// own is the sink's ownership loop: stand by until this replica gets the
// sink's lease, deliver while it holds it, and stand by again when it loses
// it, until close.
func (d *delivery) own(ls *leases) {
	defer close(d.done)
	defer d.track.set(StateStopped)
	for {
		l := d.standBy(ls)
		if l == nil || !d.hold(l) {
			return
		}
	}
}

// standBy tries to take the lease at random intervals of TTL/10 to TTL/5
// (so that standbys do not ask in step) until it has it; nil when close was
// called.
func (d *delivery) standBy(ls *leases) *lease {
	for {
		ctx, cancel := context.WithTimeout(d.base, ls.every())
		l, holder, err := ls.acquire(ctx, d.name)
		cancel()
		switch {
		case l != nil:
			return l
		case err != nil:
			d.track.fail(err, ls.every())
		case holder != "": // "" when another replica took it first: the next try names it
			d.track.standBy(holder)
		}
		if !d.sleep(ls.every()/2 + rand.N(ls.every()/2+1)) {
			return nil
		}
	}
}

// term is one stretch of holding the lease: the reader and the writer run
// within it and end with it.
type term struct {
	lease  *lease
	stop   chan struct{}      // closed: finish the batch in hand, read no more
	hard   context.Context    // cancelled: abandon the write in flight
	cancel context.CancelFunc //
	paused chan struct{}      // the writer retries: the reader drops what it read ahead
	once   sync.Once
}

func (d *delivery) newTerm(l *lease) *term {
	hard, cancel := context.WithCancel(d.base)
	return &term{lease: l, stop: make(chan struct{}), hard: hard, cancel: cancel, paused: make(chan struct{}, 1)}
}

// end asks the term to finish the batch in hand and read no more.
func (t *term) end() { t.once.Do(func() { close(t.stop) }) }

func (t *term) stopping() bool {
	select {
	case <-t.stop:
		return true
	default:
		return false
	}
}

// hold delivers the sink while the lease holds, renewing it every TTL/5,
// and returns true when the lease was lost, false when close was called (the
// batch in hand finished and the lease released).
func (d *delivery) hold(l *lease) bool {
	d.track.hold()
	d.held.Set(1)
	d.changes.WithLabelValues("acquired").Inc()
	defer d.held.Set(0)
	t := d.newTerm(l)
	defer t.cancel()
	ended := make(chan struct{})
	go func() {
		defer close(ended)
		lp := &loop{delivery: d, term: t}
		batches := make(chan batch)
		var wg sync.WaitGroup
		wg.Go(func() { lp.read(batches) })
		wg.Go(func() { lp.run(batches) })
		wg.Wait()
	}()
	renew := time.NewTimer(l.ls.every())
	defer renew.Stop()
	quit, lost := d.quit, error(nil)
	for {
		select {
		case <-quit:
			quit = nil
			t.end() // keep renewing while the batch in hand finishes
		case <-renew.C:
			next, err := d.renew(l)
			if err != nil {
				lost = err
				d.held.Set(0)
				d.changes.WithLabelValues("lost").Inc()
				d.log.Warn("sink lease lost; stopping, another replica takes the sink over", "sink", d.name, "replica", l.ls.replica, "reason", lost)
				t.end()
				t.cancel() // a write in flight ends at the lease's deadline anyway
				continue
			}
			renew.Reset(next)
		case <-ended:
			if lost != nil {
				d.track.lose()
				return true
			}
			d.release(l)
			return false
		}
	}
}

// renew tries once to renew the lease. It returns when to try next (sooner
// after a failure), or why the lease is lost: taken, expired, or not renewed
// before the holder must stop.
func (d *delivery) renew(l *lease) (time.Duration, error) {
	every := l.ls.every()
	left := l.until()
	if left > 0 {
		ctx, cancel := context.WithTimeout(d.base, min(left, every))
		err := l.renew(ctx)
		cancel()
		switch {
		case err == nil:
			return every, nil
		case errors.Is(err, errLeaseLost):
			return 0, fmt.Errorf("%w: another replica holds it, or it expired", err)
		}
		d.log.Debug("sink lease renewal failed; retrying", "sink", d.name, "error", err)
		if left = l.until(); left > 0 {
			return min(every/4, left), nil
		}
	}
	return 0, fmt.Errorf("%w: not renewed in time", errLeaseLost)
}

// release deletes the lease so that a standby takes over at once.
func (d *delivery) release(l *lease) {
	ctx, cancel := context.WithTimeout(context.Background(), l.ls.every())
	defer cancel()
	if err := l.release(ctx); err != nil {
		d.log.Warn("sink lease not released; it expires by itself", "sink", d.name, "error", err)
		return
	}
	d.changes.WithLabelValues("released").Inc()
	d.log.Info("sink lease released", "sink", d.name, "replica", l.ls.replica)
}
