package backfill

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/agentphone-connector/connector/lease"
)

// CheckpointBucket returns the name of the KV bucket holding backfill's
// checkpoint for the journal stream of that name.
func CheckpointBucket(stream string) string { return stream + "_BACKFILL" }

const checkpointKey = "checkpoint"

// LeaseBucket returns the name of the KV bucket holding the lease of the
// backfill run in progress, for the journal stream of that name.
func LeaseBucket(stream string) string { return stream + "_BACKFILL_LEASE" }

// leaseTTL is how long a run that died keeps other runs out: a running
// one renews its lease every fifth of it.
const leaseTTL = 2 * time.Minute

// Phases of a run.
const (
	phaseCalls      = "calls"
	phaseDeliveries = "deliveries"
	phaseDone       = "done"
)

// ErrBusy reports a run that another process (or replica) holds.
var ErrBusy = errors.New("backfill: another run is in progress")

// checkpoint is where a run stands, saved in KV after every step so an
// interrupted run resumes there. Which run holds it is the lease's
// business, not the checkpoint's.
type checkpoint struct {
	Saved  time.Time `json:"saved"`
	Phase  string    `json:"phase"`
	Offset int       `json:"offset"` // the next item of the phase's list
	Report Report    `json:"report"`
	rev    uint64
	lease  *lease.Lease
}

func openCheckpoints(ctx context.Context, js jetstream.JetStream, stream string, replicas int) (jetstream.KeyValue, error) {
	kv, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket:      CheckpointBucket(stream),
		Description: "where backfill stands (agentphone-connector)",
		History:     1,
		Replicas:    replicas,
		Storage:     jetstream.FileStorage,
	})
	if err != nil {
		return nil, fmt.Errorf("open backfill checkpoint: %w", err)
	}
	return kv, nil
}

// begin takes the backfill lease for this run (ErrBusy when another run
// holds it) and the checkpoint: it resumes an unfinished run, or starts a
// new one covering since. restart discards an unfinished run.
func (b *Backfill) begin(ctx context.Context, since time.Duration, restart bool) (*checkpoint, error) {
	l, err := b.leases.Acquire(ctx, checkpointKey)
	var held *lease.HeldError
	switch {
	case errors.As(err, &held):
		return nil, fmt.Errorf("%w (%s)", ErrBusy, held.Holder)
	case err != nil:
		return nil, fmt.Errorf("backfill lease: %w", err)
	}
	cp, err := b.load(ctx, since, restart)
	if err != nil {
		_ = l.Release(context.WithoutCancel(ctx))
		return nil, err
	}
	cp.lease = l
	return cp, nil
}

// load reads the checkpoint, resumes it or starts a new run, and saves it.
func (b *Backfill) load(ctx context.Context, since time.Duration, restart bool) (*checkpoint, error) {
	now := b.now()
	cp := &checkpoint{}
	entry, err := b.kv.Get(ctx, checkpointKey)
	switch {
	case errors.Is(err, jetstream.ErrKeyNotFound):
	case err != nil:
		return nil, fmt.Errorf("backfill checkpoint: %w", err)
	default:
		if json.Unmarshal(entry.Value(), cp) != nil {
			cp = &checkpoint{}
		}
		cp.rev = entry.Revision()
	}
	if cp.rev != 0 && cp.Phase != phaseDone && cp.Phase != "" && !restart {
		cp.Report.Resumed = true
	} else {
		*cp = checkpoint{rev: cp.rev, Phase: phaseCalls, Report: Report{Since: now.Add(-since), StartedAt: now}}
	}
	return cp, b.save(ctx, cp)
}

// save stores cp if this run still holds it: ErrBusy when another run
// took it over.
func (b *Backfill) save(ctx context.Context, cp *checkpoint) error {
	cp.Saved = b.now()
	val, err := json.Marshal(cp)
	if err != nil {
		return err
	}
	var rev uint64
	if cp.rev == 0 {
		rev, err = b.kv.Create(ctx, checkpointKey, val)
	} else {
		rev, err = b.kv.Update(ctx, checkpointKey, val, cp.rev)
	}
	switch {
	case errors.Is(err, jetstream.ErrKeyExists), errors.Is(err, jetstream.ErrKeyRevisionMismatch):
		return fmt.Errorf("%w: the checkpoint was taken over", ErrBusy)
	case err != nil:
		return fmt.Errorf("backfill checkpoint: %w", err)
	}
	cp.rev = rev
	return nil
}

// release saves cp and gives the lease up, so the next run (this command
// again, or a replica) resumes it at once.
func (b *Backfill) release(cp *checkpoint) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return errors.Join(b.save(ctx, cp), cp.lease.Release(ctx))
}
