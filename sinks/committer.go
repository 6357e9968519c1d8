package sinks

import (
	"context"
	"errors"
	"sync"
	"time"

	connector "github.com/agentphone-connector/connector"
	"github.com/agentphone-connector/connector/lease"
)

// committer saves a term's progress and acknowledges the journal behind
// the chain, so that the next batch is written while the last one's
// progress is saved. Only the latest commit matters: a checkpoint covers
// every event up to its sequence, and an ack every message up to its own.
// A save that fails is tried again with the latest commit; one refused
// because the progress moved (a replay, another holder) ends the term.
// Progress that lags behind what was written costs a longer read-back at
// the next term, never a copy.
type committer struct {
	progress *progress
	lease    *lease.Lease
	track    *tracker
	retry    connector.Backoff
	halt     func() // ends the term

	mu     sync.Mutex
	latest *commitReq
	moved  bool

	wake chan struct{} // a commit is pending
	end  chan struct{} // closed by finish
	done chan struct{} // closed when run returns
}

// commitReq is one batch's commit.
type commitReq struct {
	seq   uint64
	state []byte
	ack   func() error // acknowledges the journal up to seq
}

func newCommitter(p *progress, l *lease.Lease, track *tracker, retry connector.Backoff, halt func()) *committer {
	c := &committer{progress: p, lease: l, track: track, retry: retry, halt: halt,
		wake: make(chan struct{}, 1), end: make(chan struct{}), done: make(chan struct{})}
	go c.run()
	return c
}

// push makes p the commit to save next, in place of any not saved yet.
func (c *committer) push(p commitReq) {
	c.mu.Lock()
	c.latest = &p
	c.mu.Unlock()
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// finish saves what is pending (once, within the lease) and stops; it
// reports whether the progress moved under the term.
func (c *committer) finish() (moved bool) {
	close(c.end)
	<-c.done
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.moved
}

func (c *committer) run() {
	defer close(c.done)
	for {
		select {
		case <-c.wake:
		case <-c.end:
			_ = c.save()
			return
		}
		for attempt := 0; ; attempt++ {
			err := c.save()
			if err == nil {
				break
			}
			if errors.Is(err, errProgressMoved) {
				c.mu.Lock()
				c.moved = true
				c.mu.Unlock()
				c.halt()
				return
			}
			wait := c.retry.Delay(attempt)
			c.track.fail(err, wait)
			if !sleep(wait, c.end) {
				return
			}
		}
	}
}

// save saves the latest commit and acknowledges the journal; a commit that
// failed transiently stays the one to save, unless a newer came meanwhile.
func (c *committer) save() error {
	c.mu.Lock()
	p := c.latest
	c.latest = nil
	c.mu.Unlock()
	if p == nil {
		return nil
	}
	ctx, cancel, err := fenced(context.Background(), c.lease, 10*time.Second)
	if err == nil {
		err = c.progress.save(ctx, p.seq, p.state)
		cancel()
	}
	if err != nil {
		c.mu.Lock()
		if c.latest == nil {
			c.latest = p
		}
		c.mu.Unlock()
		return err
	}
	_ = p.ack()
	return nil
}
