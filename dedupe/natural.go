package dedupe

import (
	"context"
	"errors"
	"fmt"
	"time"

	"golang.org/x/time/rate"

	connector "github.com/agentphone-connector/connector"
)

// NaturalKeys is a connector.Appender that keeps one event per natural key
// across sources (a call's agent.call_ended from its webhook and from
// backfill), in front of the journal:
//
//	Append(e) ─▶ e.NaturalKey() == ""? ──yes──▶ journal append (no extra round trip)
//	              │ no
//	              ▼
//	           reserve key ──taken──▶ Duplicate (seq of the event holding it)
//	              │        ──held by an append in flight──▶ wait, at most the wait limit
//	              ▼
//	           journal append ──ok──▶ commit key (event ID, seq)
//	              └──error──▶ release key, return the error
//
// A crash between reserve and commit leaves a reservation that the next
// attempt takes over once it is older than the reservation timeout, so the
// event is never lost; if the crash came after the append, that event is
// then journaled a second time under the other source's ID (at least once).
//
// Only kinds with a Kind.NaturalKey pay for it: two KV writes per event.
// Put it behind the Guard: repeats of one event ID never reach it.
type NaturalKeys struct {
	next connector.Appender
	keys *Keys
	wait time.Duration
	warn rate.Sometimes
}

var _ connector.Appender = (*NaturalKeys)(nil)

// NewNaturalKeys returns the appender in front of next. wait is how long an
// append waits for another append of the same key to finish (the journal's
// append timeout is a good value) before failing with
// connector.ErrUnavailable.
func NewNaturalKeys(next connector.Appender, keys *Keys, wait time.Duration) *NaturalKeys {
	return &NaturalKeys{next: next, keys: keys, wait: wait, warn: rate.Sometimes{Interval: 10 * time.Second}}
}

// Append journals e unless an event with its natural key was journaled
// within the window; that is a success with Duplicate set. Errors wrap
// connector.ErrUnavailable when the keys or the journal cannot be reached:
// nothing is recorded then, and a retry goes through.
func (n *NaturalKeys) Append(ctx context.Context, e *connector.Event) (connector.Appended, error) {
	key := e.NaturalKey()
	if key == "" {
		return n.next.Append(ctx, e)
	}
	r, err := n.reserve(ctx, key)
	if c := (*CommittedError)(nil); errors.As(err, &c) {
		return connector.Appended{Seq: c.Seq, Duplicate: true}, nil
	}
	if err != nil {
		return connector.Appended{}, fmt.Errorf("%w: %w", connector.ErrUnavailable, err)
	}
	res, err := n.next.Append(ctx, e)
	// Settle the key even when ctx ended: a reservation left behind would
	// hold the key until it times out.
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), n.wait)
	defer cancel()
	if err != nil {
		if rerr := n.keys.Release(sctx, r); rerr != nil {
			n.warn.Do(func() {
				n.keys.log.Warn("natural key: release failed; it is taken over after the timeout", "key", key, "error", rerr)
			})
		}
		return res, err
	}
	if cerr := n.keys.Commit(sctx, r, e.ID, res.Seq); cerr != nil {
		// The event is journaled, which is what the caller asked; the
		// reservation times out and another source may then add a copy.
		n.warn.Do(func() {
			n.keys.log.Warn("natural key: commit failed after the append", "key", key, "event_id", e.ID, "error", cerr)
		})
	}
	return res, nil
}

// reserve reserves key, waiting while another append holds it.
func (n *NaturalKeys) reserve(ctx context.Context, key string) (Reservation, error) {
	deadline := time.Now().Add(n.wait)
	pause := 10 * time.Millisecond
	for {
		r, err := n.keys.Reserve(ctx, key)
		if !errors.Is(err, ErrReserved) || time.Now().Add(pause).After(deadline) {
			return r, err
		}
		t := time.NewTimer(pause)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return Reservation{}, ctx.Err()
		}
		pause = min(2*pause, 200*time.Millisecond)
	}
}
