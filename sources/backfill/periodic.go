package backfill

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// periodic is the loop Start runs.
type periodic struct {
	mu      sync.Mutex
	started bool
	closed  bool
	cancel  context.CancelFunc
	done    chan struct{}
}

// Start runs a backfill of Config.Since every Config.Interval, the first
// one Interval after start, until Close; a run another replica holds is
// skipped. With Interval 0 it does nothing.
func (b *Backfill) Start() {
	if b.cfg.Interval <= 0 {
		return
	}
	b.loop.mu.Lock()
	defer b.loop.mu.Unlock()
	if b.loop.started || b.loop.closed {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	b.loop.started, b.loop.cancel, b.loop.done = true, cancel, make(chan struct{})
	go func() {
		defer close(b.loop.done)
		b.every(ctx)
	}()
	b.log.Info("periodic backfill started", "interval", b.cfg.Interval.String(), "since", b.cfg.Since.String())
}

func (b *Backfill) every(ctx context.Context) {
	t := time.NewTicker(b.cfg.Interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if _, err := b.Run(ctx, Options{Since: b.cfg.Since}); errors.Is(err, ErrBusy) {
			b.log.Debug("periodic backfill skipped: another run holds the checkpoint", "error", err)
		}
	}
}

// Close stops the periodic runs, interrupting one in progress (its
// checkpoint keeps its place), and waits for it, or for ctx.
func (b *Backfill) Close(ctx context.Context) error {
	b.loop.mu.Lock()
	started := b.loop.started && !b.loop.closed
	b.loop.closed = true
	b.loop.mu.Unlock()
	if !started {
		return nil
	}
	b.loop.cancel()
	select {
	case <-b.loop.done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("backfill close: %w", ctx.Err())
	}
}
