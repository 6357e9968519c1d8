package sinks

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Lag is how far a sink is behind the journal.
type Lag struct {
	Pending   uint64        // events not acknowledged: not delivered yet plus in flight
	OldestAge time.Duration // age of the oldest of them; 0 when there is none
}

var errNotStarted = errors.New("sinks: sink not started")

// lag asks the journal how far the sink's consumer is behind; any replica
// can, holder or not.
func (d *delivery) lag(ctx context.Context) (Lag, error) {
	p := d.journal.Load()
	if p == nil {
		return Lag{}, errNotStarted
	}
	journal := *p
	c, err := journal.Consumer(ctx, ConsumerName(d.name))
	if err != nil {
		return Lag{}, fmt.Errorf("sink %s lag: %w", d.name, err)
	}
	info := c.CachedInfo()
	lag := Lag{Pending: info.NumPending + uint64(info.NumAckPending)}
	if lag.Pending == 0 {
		return lag, nil
	}
	oldest, err := oldest(ctx, journal, info.AckFloor.Stream+1, consumerFilter(info.Config))
	if err != nil {
		return lag, fmt.Errorf("sink %s lag: %w", d.name, err)
	}
	if !oldest.IsZero() {
		lag.OldestAge = max(d.track.now().Sub(oldest), 0)
	}
	return lag, nil
}

// consumerFilter returns the filter subjects of a consumer; nil for none.
func consumerFilter(c jetstream.ConsumerConfig) []string {
	if c.FilterSubject != "" {
		return []string{c.FilterSubject}
	}
	return c.FilterSubjects
}

// oldest returns the time of the first stored event at or after seq, of
// the filter's subjects when there is a filter.
func oldest(ctx context.Context, journal jetstream.Stream, seq uint64, filter []string) (time.Time, error) {
	if filter == nil {
		return first(ctx, journal, seq)
	}
	var at time.Time
	for _, f := range filter {
		m, err := journal.GetMsg(ctx, seq, jetstream.WithGetMsgSubject(f))
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			continue
		}
		if err != nil {
			return time.Time{}, err
		}
		if at.IsZero() || m.Time.Before(at) {
			at = m.Time
		}
	}
	return at, nil
}

// first returns the time of the first stored event at or after seq.
func first(ctx context.Context, journal jetstream.Stream, seq uint64) (time.Time, error) {
	m, err := journal.GetMsg(ctx, seq)
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		info, ierr := journal.Info(ctx)
		if ierr != nil {
			return time.Time{}, ierr
		}
		m, err = journal.GetMsg(ctx, max(seq, info.State.FirstSeq))
	}
	if err != nil {
		return time.Time{}, err
	}
	return m.Time, nil
}
