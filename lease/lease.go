package lease

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// errConflict reports a compare-and-set on a key that failed: the key
// exists (create) or moved on (update).
var errConflict = errors.New("lease: key changed")

// Lease is this holder's hold on one key, from Acquire to its loss or
// release. Its methods are safe for concurrent use.
type Lease struct {
	b   *Bucket
	key string

	mu        sync.Mutex
	rev       uint64    // the entry's revision as last written; 0 to create it
	safeUntil time.Time // the holder may act until then
}

// Key is the leased key.
func (l *Lease) Key() string { return l.key }

// Holder is the name this lease is held under.
func (l *Lease) Holder() string { return l.b.holder }

// Left returns how long the holder may still act on what the lease
// guards, <= 0 when no longer: TTL less a fifth from the moment it sent
// the last write that succeeded, on its own clock.
func (l *Lease) Left() time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.safeUntil.Sub(l.b.now())
}

// write creates (rev 0) or updates the entry with state, compare-and-set
// on its revision, and on success moves the safe time. errConflict when
// the key exists or moved on.
func (l *Lease) write(ctx context.Context, state string) error {
	l.mu.Lock()
	rev := l.rev
	l.mu.Unlock()
	sent := l.b.now()
	var err error
	if rev == 0 {
		rev, err = l.b.kv.Create(ctx, l.key, l.b.encode(state))
	} else {
		rev, err = l.b.kv.Update(ctx, l.key, l.b.encode(state), rev)
	}
	switch {
	case errors.Is(err, jetstream.ErrKeyExists), errors.Is(err, jetstream.ErrKeyRevisionMismatch):
		return errConflict
	case err != nil:
		return fmt.Errorf("lease %s: %w", l.key, err)
	}
	l.mu.Lock()
	l.rev, l.safeUntil = rev, sent.Add(l.b.ttl-l.b.Every())
	l.mu.Unlock()
	return nil
}

// Renew extends the lease for another TTL. When the revision moved on it
// looks again: an entry still under this holder's name (a renewal whose
// answer was lost) is renewed at its revision, and a key that lapsed with
// nobody taking it meanwhile is created again; otherwise the lease is lost
// (ErrLost). A renewal after Left reached 0 is refused with ErrLost: the
// holder has stopped acting and must acquire again. Any other error is the
// bucket's; the lease may still be held.
func (l *Lease) Renew(ctx context.Context) error {
	if l.Left() <= 0 {
		return fmt.Errorf("%w: %s not renewed in time", ErrLost, l.key)
	}
	err := l.write(ctx, "")
	if !errors.Is(err, errConflict) {
		return err
	}
	e, gerr := l.b.kv.Get(ctx, l.key)
	switch {
	case errors.Is(gerr, jetstream.ErrKeyNotFound):
		l.setRev(0)
	case gerr != nil:
		return fmt.Errorf("lease %s: %w", l.key, gerr)
	default:
		if holder, state := decode(e.Value()); holder != l.b.holder || state != "" {
			return fmt.Errorf("%w: %s is held by %s", ErrLost, l.key, holder)
		}
		l.setRev(e.Revision())
	}
	if err := l.write(ctx, ""); err != nil {
		if errors.Is(err, errConflict) {
			return fmt.Errorf("%w: %s was taken", ErrLost, l.key)
		}
		return err
	}
	return nil
}

func (l *Lease) setRev(rev uint64) {
	l.mu.Lock()
	l.rev = rev
	l.mu.Unlock()
}

// Finish writes state into the entry (e.g. why following a call ended for
// good): the key stays held under this name, and Acquire refuses it with
// that state until the entry lapses. The lease is not renewed after.
func (l *Lease) Finish(ctx context.Context, state string) error {
	if err := l.write(ctx, state); err != nil {
		if errors.Is(err, errConflict) {
			return fmt.Errorf("%w: %s", ErrLost, l.key)
		}
		return err
	}
	return nil
}

// Release deletes the entry if it is still this lease's, so that another
// holder can take the key at once. A key taken over meanwhile is left
// alone (nil).
func (l *Lease) Release(ctx context.Context) error {
	l.mu.Lock()
	rev := l.rev
	l.safeUntil = time.Time{}
	l.mu.Unlock()
	err := l.b.kv.Delete(ctx, l.key, jetstream.LastRevision(rev))
	switch {
	case errors.Is(err, jetstream.ErrKeyExists), errors.Is(err, jetstream.ErrKeyRevisionMismatch):
		return nil
	case err != nil:
		return fmt.Errorf("release lease %s: %w", l.key, err)
	}
	return nil
}

// Keep renews the lease every fifth of the TTL (sooner after a failed
// renewal) until ctx ends, then returns nil; or until the lease is lost
// (taken, or not renewed before Left reached 0), then returns an error
// matching ErrLost. The holder must stop acting by Left whatever Keep does.
func (l *Lease) Keep(ctx context.Context) error {
	every := l.b.Every()
	t := time.NewTimer(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		left := l.Left()
		if left <= 0 {
			return fmt.Errorf("%w: %s not renewed in time", ErrLost, l.key)
		}
		rctx, cancel := context.WithTimeout(ctx, min(left, every))
		err := l.Renew(rctx)
		cancel()
		switch {
		case err == nil:
			t.Reset(every)
		case errors.Is(err, ErrLost):
			return err
		case ctx.Err() != nil:
			return nil
		default:
			t.Reset(max(min(every/4, l.Left()), time.Millisecond))
		}
	}
}
