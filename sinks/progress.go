package sinks

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"

	"github.com/nats-io/nats.go/jetstream"

	connector "github.com/agentphone-connector/connector"
)

// Resumable is a Writer whose target can say what an earlier write left
// there, so that a write whose outcome was unknown (a timeout, a crash, a
// takeover) is not made twice. The chain saves Checkpoint with every
// journal position it commits and hands the last saved one to Resume when
// a term begins; Write then reports the events the target held already as
// connector.ErrAlreadyWritten.
type Resumable interface {
	connector.Writer
	// Resume is called before the first Write of every term (this replica
	// took the sink, again or for the first time), with what was saved.
	// It finds out what the target holds beyond the checkpoint. An error
	// is retried like a failed write.
	Resume(ctx context.Context, from Resume) error
	// Checkpoint returns the writer's state covering every event Write
	// reported written or already written so far; Resume gets it back.
	Checkpoint() ([]byte, error)
}

// Resume is what a term starts from.
type Resume struct {
	// State is the last Checkpoint saved for the sink, nil when none was
	// (a new sink, or one delivered by a version without checkpoints).
	State []byte
	// Replayed reports that the sink was re-driven (connector replay) since
	// the checkpoint: the events from the new position on are to be written
	// again, even those the target holds.
	Replayed bool
}

// ProgressBucket returns the name of the key-value bucket holding each
// sink's progress, for the journal stream of that name.
func ProgressBucket(journalStream string) string { return journalStream + "_SINK_PROGRESS" }

// errProgressMoved reports a save refused because the progress was
// written by someone else since this term read it.
var errProgressMoved = errors.New("sinks: progress moved (replay, or another holder)")

// saved is one sink's progress as stored.
type saved struct {
	Seq      uint64 `json:"seq"`             // the last journal sequence committed
	State    []byte `json:"state,omitempty"` // the writer's checkpoint at Seq
	Replayed bool   `json:"replayed,omitempty"`
}

// progress is one sink's progress entry, read at a term's start and
// written, compare-and-set, after each committed batch.
type progress struct {
	kv   jetstream.KeyValue
	sink string

	mu   sync.Mutex // the chain saves while the reader asks whether it moved
	rev  uint64     // 0: none yet
	last saved
}

// exists reports whether the sink has a progress entry to update.
func (p *progress) exists() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.rev != 0
}

// openProgress opens (creating it if needed) the progress bucket.
func openProgress(ctx context.Context, js jetstream.JetStream, journalStream string, c LeaseConfig) (jetstream.KeyValue, error) {
	kc := jetstream.KeyValueConfig{
		Bucket: ProgressBucket(journalStream), Description: "Where each sink stands and what its target holds (agentphone-connector)",
		History: 1, Replicas: max(c.Replicas, 1), Storage: jetstream.FileStorage,
	}
	if c.Memory {
		kc.Storage = jetstream.MemoryStorage
	}
	kv, err := js.KeyValue(ctx, kc.Bucket)
	if errors.Is(err, jetstream.ErrBucketNotFound) {
		kv, err = js.CreateKeyValue(ctx, kc)
		if errors.Is(err, jetstream.ErrBucketExists) {
			kv, err = js.KeyValue(ctx, kc.Bucket)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("sink progress bucket %s: %w", kc.Bucket, err)
	}
	return kv, nil
}

// load reads the sink's progress; found is false when there is none.
func loadProgress(ctx context.Context, kv jetstream.KeyValue, sink string) (*progress, bool, error) {
	p := &progress{kv: kv, sink: sink}
	e, err := kv.Get(ctx, sink)
	switch {
	case errors.Is(err, jetstream.ErrKeyNotFound):
		return p, false, nil
	case err != nil:
		return nil, false, fmt.Errorf("sink %s progress: %w", sink, err)
	}
	if err := json.Unmarshal(e.Value(), &p.last); err != nil {
		return nil, false, fmt.Errorf("sink %s progress: %w", sink, err)
	}
	p.rev = e.Revision()
	return p, true, nil
}

// save stores seq and state if nobody wrote the entry since it was read.
func (p *progress) save(ctx context.Context, seq uint64, state []byte) error {
	v, err := json.Marshal(saved{Seq: seq, State: state})
	if err != nil {
		return err
	}
	p.mu.Lock()
	rev := p.rev
	p.mu.Unlock()
	if rev == 0 {
		rev, err = p.kv.Create(ctx, p.sink, v)
	} else {
		rev, err = p.kv.Update(ctx, p.sink, v, rev)
	}
	switch {
	case errors.Is(err, jetstream.ErrKeyExists), errors.Is(err, jetstream.ErrKeyRevisionMismatch):
		return errProgressMoved
	case err != nil:
		return fmt.Errorf("sink %s progress: %w", p.sink, err)
	}
	p.mu.Lock()
	p.rev, p.last = rev, saved{Seq: seq, State: state}
	p.mu.Unlock()
	return nil
}

// moved reports whether someone else wrote the progress since this term
// read or last saved it (a replay, another holder).
func (p *progress) moved(ctx context.Context) (bool, error) {
	p.mu.Lock()
	rev := p.rev
	p.mu.Unlock()
	e, err := p.kv.Get(ctx, p.sink)
	switch {
	case errors.Is(err, jetstream.ErrKeyNotFound):
		return rev != 0, nil
	case err != nil:
		return false, fmt.Errorf("sink %s progress: %w", p.sink, err)
	}
	if e.Revision() == rev {
		return false, nil
	}
	p.mu.Lock() // a save may have landed between the two reads
	defer p.mu.Unlock()
	return e.Revision() > p.rev, nil
}

// replayProgress moves the sink's saved position to before seq, keeping
// the writer's checkpoint and marking it replayed; any holder's next save
// is refused, so its term ends and the next one starts from here.
func replayProgress(ctx context.Context, kv jetstream.KeyValue, sink string, seq uint64) error {
	for range 5 {
		p, found, err := loadProgress(ctx, kv, sink)
		if err != nil {
			return err
		}
		v, _ := json.Marshal(saved{Seq: seq - 1, State: p.last.State, Replayed: true})
		if found {
			_, err = kv.Update(ctx, sink, v, p.rev)
		} else {
			_, err = kv.Create(ctx, sink, v)
		}
		if err == nil {
			return nil
		}
		if !errors.Is(err, jetstream.ErrKeyExists) && !errors.Is(err, jetstream.ErrKeyRevisionMismatch) {
			return fmt.Errorf("sink %s progress: %w", sink, err)
		}
	}
	return fmt.Errorf("sink %s progress: %w", sink, errProgressMoved)
}
