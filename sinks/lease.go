package sinks

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Leases decide which replica delivers a sink. Each sink has one key in a
// JetStream key-value bucket whose entries expire TTL after they were last
// written (the bucket's MaxAge, on the NATS servers' clock). The key holds
// the name of the replica that delivers the sink:
//
//	standby ──Create (key absent or deleted)──▶ holder ──Update(revision) every TTL/5──┐
//	   ▲                                          │  ▲                                  │
//	   │                                          │  └──────────────renewed─────────────┘
//	   └──lost: revision moved on, or not renewed ┘  Close: stop, then Delete(revision)
//	      in time; stop writing first
//
// Fencing is by time, measured on the holder's own monotonic clock from the
// moment it sent the write that succeeded: the server keeps the entry at
// least TTL from then, so the holder may act until TTL less a guard of TTL/5
// (safeUntil). Every write and dead-letter publish gets a deadline no later
// than safeUntil and none starts after it; a fetch must end before it. A
// standby can take the key only once the entry is gone, a guard after the
// holder stopped. The guard covers the pull requests still open, clock skew
// between NATS servers (the entry's time is the stream leader's) and a
// request on the wire as its deadline passes. What no lease can fence is a
// holder frozen longer than the guard between its check and its write (a VM
// paused mid-write): that write may land after the takeover, as one more
// duplicate, which event IDs let consumers drop.

// errLeaseLost reports a lease someone else holds now, or that expired.
var errLeaseLost = errors.New("sinks: lease lost")

// errLeaseExpiring reports that the lease may end before the work could
// finish: the work waits for a renewal or for the end of the term.
var errLeaseExpiring = errors.New("sinks: lease not renewed in time")

// leases is this replica's handle on the lease bucket.
type leases struct {
	kv      jetstream.KeyValue
	replica string        // this replica's name, the value of the keys it holds
	ttl     time.Duration // the bucket's, which may differ from the configuration's
	now     func() time.Time
}

// openLeases opens the lease bucket, creating it with the configured TTL if
// it does not exist. An existing bucket keeps its TTL (every replica must
// agree on it): the configuration's is then only compared.
func openLeases(ctx context.Context, js jetstream.JetStream, c LeaseConfig, replica string, log *slog.Logger, now func() time.Time) (*leases, error) {
	kv, err := js.KeyValue(ctx, c.Bucket)
	if errors.Is(err, jetstream.ErrBucketNotFound) {
		kv, err = js.CreateKeyValue(ctx, LeaseBucketConfig(c))
		if errors.Is(err, jetstream.ErrBucketExists) { // another replica was quicker
			kv, err = js.KeyValue(ctx, c.Bucket)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("lease bucket %s: %w", c.Bucket, err)
	}
	st, err := kv.Status(ctx)
	if err != nil {
		return nil, fmt.Errorf("lease bucket %s: %w", c.Bucket, err)
	}
	ttl := st.TTL()
	if ttl < minLeaseTTL {
		return nil, fmt.Errorf("lease bucket %s: TTL %s is under %s; delete the bucket to have it made again", c.Bucket, ttl, minLeaseTTL)
	}
	if ttl != c.TTL {
		log.Warn("the lease bucket keeps the TTL it was created with; delete it while no replica runs to change it",
			"bucket", c.Bucket, "ttl", ttl.String(), "configured", c.TTL.String())
	}
	return &leases{kv: kv, replica: replica, ttl: ttl, now: now}, nil
}

// LeaseBucketConfig returns the key-value configuration of the lease bucket.
func LeaseBucketConfig(c LeaseConfig) jetstream.KeyValueConfig {
	kc := jetstream.KeyValueConfig{
		Bucket:      c.Bucket,
		Description: "Which replica delivers each sink (agentphone-connector)",
		History:     1,
		TTL:         c.TTL,
		Replicas:    max(c.Replicas, 1),
		Storage:     jetstream.FileStorage,
	}
	if c.Memory {
		kc.Storage = jetstream.MemoryStorage
	}
	return kc
}

// every is how often a holder renews and a standby tries; also the guard.
func (ls *leases) every() time.Duration { return ls.ttl / 5 }

// acquire takes the sink's lease if nobody holds it. It returns the lease,
// or nil and the current holder's name when another replica holds it.
func (ls *leases) acquire(ctx context.Context, sink string) (*lease, string, error) {
	var rev uint64
	e, err := ls.kv.Get(ctx, sink)
	switch {
	case errors.Is(err, jetstream.ErrKeyNotFound):
	case err != nil:
		return nil, "", fmt.Errorf("lease %s: %w", sink, err)
	case string(e.Value()) != ls.replica:
		return nil, string(e.Value()), nil
	default:
		rev = e.Revision() // ours, from a term that gave up on it: claim it again with a known time
	}
	l := &lease{ls: ls, key: sink, rev: rev}
	switch err := l.write(ctx); {
	case errors.Is(err, errLeaseLost):
		return nil, "", nil // another replica was quicker; the next try names it
	case err != nil:
		return nil, "", err
	}
	return l, ls.replica, nil
}

// lease is this replica's hold on one sink, from acquisition to its loss or
// release. Its methods are safe for concurrent use.
type lease struct {
	ls  *leases
	key string

	mu        sync.Mutex
	rev       uint64    // the entry's revision as last written; 0 to create it
	safeUntil time.Time // the holder may act until then
}

// write creates (rev 0) or renews the entry, compare-and-set on its
// revision, and on success moves safeUntil. It returns errLeaseLost when the
// revision moved on (someone else holds it, or it expired).
func (l *lease) write(ctx context.Context) error {
	l.mu.Lock()
	rev := l.rev
	l.mu.Unlock()
	sent := l.ls.now()
	var err error
	if rev == 0 {
		rev, err = l.ls.kv.Create(ctx, l.key, []byte(l.ls.replica))
	} else {
		rev, err = l.ls.kv.Update(ctx, l.key, []byte(l.ls.replica), rev)
	}
	switch {
	case errors.Is(err, jetstream.ErrKeyExists), errors.Is(err, jetstream.ErrKeyRevisionMismatch):
		return errLeaseLost
	case err != nil:
		return fmt.Errorf("lease %s: %w", l.key, err)
	}
	l.mu.Lock()
	l.rev, l.safeUntil = rev, sent.Add(l.ls.ttl-l.ls.every())
	l.mu.Unlock()
	return nil
}

// renew extends the lease. When the revision moved on it checks whether the
// entry is still this replica's (a renewal whose answer was lost) and then
// renews that revision; otherwise the lease is lost.
func (l *lease) renew(ctx context.Context) error {
	err := l.write(ctx)
	if !errors.Is(err, errLeaseLost) {
		return err
	}
	e, gerr := l.ls.kv.Get(ctx, l.key)
	if gerr != nil || string(e.Value()) != l.ls.replica {
		return errLeaseLost
	}
	l.mu.Lock()
	l.rev = e.Revision()
	l.mu.Unlock()
	return l.write(ctx)
}

// release deletes the entry if it is still this lease's, so that a standby
// takes over without waiting for it to expire.
func (l *lease) release(ctx context.Context) error {
	l.mu.Lock()
	rev := l.rev
	l.mu.Unlock()
	if err := l.ls.kv.Delete(ctx, l.key, jetstream.LastRevision(rev)); err != nil {
		return fmt.Errorf("release lease %s: %w", l.key, err)
	}
	return nil
}

// until returns how long the holder may still act, <= 0 when no longer.
func (l *lease) until() time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.safeUntil.Sub(l.ls.now())
}
