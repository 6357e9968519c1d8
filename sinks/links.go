package sinks

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
)

// deadLetter publishes the events the rest of the chain rejected for good.
// A publish that fails leaves its event rejected: the batch is not settled,
// so retry sends again and the publish is tried again; the target is not
// asked a second time.
type deadLetter struct {
	next  sender
	dlq   *deadLetters
	sink  string
	dead  func(n int) // counts dead-lettered events
	log   *slog.Logger
	track *tracker
}

func (d deadLetter) send(ctx context.Context, b *batch) error {
	err := d.next.send(ctx, b)
	n := 0
	var first *item
	var dlqErr error
	for i := range b.items {
		it := &b.items[i]
		if it.state != rejected {
			continue
		}
		if perr := d.dlq.publish(ctx, d.sink, it, it.reason); perr != nil {
			dlqErr = errors.Join(dlqErr, perr)
			continue
		}
		it.state = dead
		n++
		if first == nil {
			first = it
		}
	}
	if n > 0 {
		d.dead(n)
		d.track.add(counts{dead: uint64(n)})
		d.log.Warn("events dead-lettered", "sink", d.sink, "count", n, "first_seq", first.seq, "reason", first.reason)
	}
	if dlqErr != nil {
		return errors.Join(err, fmt.Errorf("dead-letter: %w", dlqErr))
	}
	return err
}

// idempotence, before the term's first write, tells a Resumable writer
// what the sink's saved progress holds, so that it skips what a previous
// holder (or this replica, before a crash) wrote and did not get to save.
// When nothing was saved yet it saves the writer's starting checkpoint at
// once, so that a crash before the first commit leaves one to resume from.
type idempotence struct {
	next     sender
	w        Resumable // nil: the target itself drops what it holds (or nothing can)
	progress *progress
	from     Resume
	resumed  bool
}

func (r *idempotence) send(ctx context.Context, b *batch) error {
	if !r.resumed && r.w != nil {
		if err := r.w.Resume(ctx, r.from); err != nil {
			return fmt.Errorf("resume: %w", err)
		}
		if !r.progress.exists() {
			state, err := r.w.Checkpoint()
			if err == nil {
				err = r.progress.save(ctx, b.items[0].seq-1, state)
			}
			if errors.Is(err, errProgressMoved) {
				return fmt.Errorf("%w: %w", errTermOver, err)
			}
			if err != nil {
				return fmt.Errorf("first checkpoint: %w", err)
			}
		}
	}
	r.resumed = true
	return r.next.send(ctx, b)
}

// commit, once the batch is settled, hands its last journal sequence and
// the writer's checkpoint to the term's committer, which saves them as the
// sink's progress and acknowledges the journal while the next batch is
// written (see committer).
type commit struct {
	next      sender
	committer *committer
	w         Resumable // nil: nothing to checkpoint
}

func (c commit) send(ctx context.Context, b *batch) error {
	if !b.settled() {
		if err := c.next.send(ctx, b); err != nil || !b.settled() {
			return err
		}
	}
	var state []byte
	if c.w != nil {
		var err error
		if state, err = c.w.Checkpoint(); err != nil {
			return fmt.Errorf("checkpoint: %w", err)
		}
	}
	last := b.items[len(b.items)-1].msg
	c.committer.push(commitReq{seq: b.last(), state: state, ack: func() error { return last.Ack() }})
	return nil
}
