package sinks

import (
	"context"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"

	connector "github.com/agentphone-connector/connector"
	"github.com/agentphone-connector/connector/lease"
)

// reader reads the journal for one term, up to readAhead batches ahead of
// the chain:
//
//	journal ══pull══▶ reader: drop redeliveries, count what is read again, decode, prepare ──batch──▶ chain
//
// It never rewinds by itself: the term rewinds once, at its start, to the
// saved progress. A message the journal delivers again while its first
// delivery is still in the chain (held longer than the ack wait) is
// dropped; one read again because the consumer was moved back (the term's
// start, a replay) is handed on and counted in rewound.
type reader struct {
	pull    *puller
	batch   Batching
	bytes   int                             // Batching.Bytes, raised to fit the largest event
	lease   *lease.Lease                    // a pull ends before the lease could
	high    uint64                          // the highest sequence read so far, by any holder
	handed  uint64                          // the highest sequence handed to the chain in this term
	rewound func(n int)                     // counts events read again
	moved   func() (bool, error)            // reports a progress written by someone else (a replay)
	prepare func(events []*connector.Event) // the Writer's Prepare, or nil
	dec     connector.Decoder
}

// next pulls the next batch, or nil when the pull brought nothing. What
// arrived before a failed pull comes with its error and is handed on.
func (r *reader) next() (*batch, error) {
	wait := min(r.batch.Wait, r.lease.Left())
	if wait < time.Millisecond {
		return nil, errLeaseExpiring
	}
	msgs, err := r.pull.fetch(r.batch.Size, r.bytes, wait)
	var keep []*nats.Msg
	var seqs []uint64
	again := 0
	for _, m := range msgs {
		seq, delivered, ok := ackInfo(m.Reply)
		if !ok {
			return nil, fmt.Errorf("pull: %w: %q", errNotJetStream, m.Reply)
		}
		if delivered > 1 && seq <= r.handed {
			continue // a redelivery of what the chain holds
		}
		if seq <= r.high {
			again++
		}
		r.high, r.handed = max(r.high, seq), max(r.handed, seq)
		keep, seqs = append(keep, m), append(seqs, seq)
	}
	if again > 0 {
		r.rewound(again)
	}
	if len(keep) == 0 && err == nil && len(msgs) == 0 {
		if moved, merr := r.moved(); merr == nil && moved { // idle: a replay would wait for the next event
			return nil, errProgressMoved
		}
	}
	if len(keep) == 0 {
		return nil, err
	}
	b := newBatch(keep, seqs, &r.dec)
	if r.prepare != nil {
		r.prepare(b.events())
	}
	return b, err
}

// run hands batches to out until stop closes or a pull fails (the error
// is returned: the term ends and the next one rewinds).
func (r *reader) run(ctx context.Context, out chan<- *batch, stop <-chan struct{}) error {
	defer close(out)
	for {
		select {
		case <-stop:
			return nil
		default:
		}
		b, err := r.next()
		if b != nil {
			select {
			case out <- b:
			case <-stop:
				return nil
			case <-ctx.Done():
				return nil
			}
		}
		if err != nil {
			return err
		}
	}
}
