package backfill

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"
)

// Status is where backfill stands, as its checkpoint records it.
type Status struct {
	Report  Report // the latest run's, resumed parts included
	Running bool   // a run holds the backfill lease now
	Phase   string // calls, deliveries, or done once finished
}

// LastRun returns the status of the latest backfill of the journal stream,
// run by any process (`connector backfill` or a replica's periodic run),
// and false when none ever ran. It only reads: no bucket is created.
func LastRun(ctx context.Context, js jetstream.JetStream, stream string) (Status, bool, error) {
	kv, err := js.KeyValue(ctx, CheckpointBucket(stream))
	if errors.Is(err, jetstream.ErrBucketNotFound) {
		return Status{}, false, nil
	}
	if err != nil {
		return Status{}, false, fmt.Errorf("backfill checkpoint: %w", err)
	}
	entry, err := kv.Get(ctx, checkpointKey)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return Status{}, false, nil
	}
	if err != nil {
		return Status{}, false, fmt.Errorf("backfill checkpoint: %w", err)
	}
	var cp checkpoint
	if err := json.Unmarshal(entry.Value(), &cp); err != nil {
		return Status{}, false, fmt.Errorf("backfill checkpoint: %w", err)
	}
	running, err := held(ctx, js, stream)
	if err != nil {
		return Status{}, false, err
	}
	return Status{Report: cp.Report, Running: running, Phase: cp.Phase}, true, nil
}

// held reports whether a run holds the backfill lease (see package lease):
// its key is in LeaseBucket until released or lapsed.
func held(ctx context.Context, js jetstream.JetStream, stream string) (bool, error) {
	kv, err := js.KeyValue(ctx, LeaseBucket(stream))
	if errors.Is(err, jetstream.ErrBucketNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("backfill lease: %w", err)
	}
	_, err = kv.Get(ctx, checkpointKey)
	switch {
	case errors.Is(err, jetstream.ErrKeyNotFound):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("backfill lease: %w", err)
	}
	return true, nil
}
