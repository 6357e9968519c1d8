package lease

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Errors of the lease operations.
var (
	// ErrHeld reports a key another replica holds, or that its holder
	// marked finished; errors.As with *HeldError tells who and why.
	ErrHeld = errors.New("lease: held by another holder")
	// ErrLost reports a lease that is no longer this holder's: another
	// took the key, or it lapsed before it could be renewed.
	ErrLost = errors.New("lease: lost")
)

// HeldError says who holds a key, and the state its holder gave it
// (Finish); it matches ErrHeld.
type HeldError struct {
	Key, Holder, State string
}

// Error says who holds the key, and its state if finished.
func (e *HeldError) Error() string {
	if e.State != "" {
		return fmt.Sprintf("lease %s: finished by %s (%s)", e.Key, e.Holder, e.State)
	}
	return fmt.Sprintf("lease %s: held by %s", e.Key, e.Holder)
}

// Is makes errors.Is(err, ErrHeld) true.
func (e *HeldError) Is(target error) bool { return target == ErrHeld }

// Config places a lease bucket.
type Config struct {
	Bucket      string
	Description string
	TTL         time.Duration // an entry lapses TTL after its last write; fixed when the bucket is created
	Replicas    int           // bucket replicas; 0 is 1
	Memory      bool          // keep the bucket in memory (tests only)
}

// MinTTL is the shortest TTL: its fifth, the guard, must outlast a round
// trip to NATS with room to spare.
const MinTTL = time.Second

// Settings is what the code passes in.
type Settings struct {
	Holder string           // this replica's name in the keys it holds (see Name); required
	Logger *slog.Logger     // nil logs nothing
	Now    func() time.Time // nil for time.Now; a lease times itself by it, so it must keep time.Now's pace
}

// Name returns the name a replica holds leases under: configured when set,
// else the host name (a pod's name), else "connector". A replica restarted
// under the same name takes its leases back at once.
func Name(configured string) string {
	if configured != "" {
		return configured
	}
	if h, err := os.Hostname(); err == nil && h != "" {
		return h
	}
	return "connector"
}

// Bucket is one replica's handle on a lease bucket. It is safe for
// concurrent use.
type Bucket struct {
	kv     jetstream.KeyValue
	holder string
	ttl    time.Duration
	now    func() time.Time
}

// Open opens the bucket, creating it with cfg's TTL if it does not exist.
// An existing bucket keeps the TTL it was created with (every replica must
// agree on it), and the lease uses that one.
func Open(ctx context.Context, js jetstream.JetStream, cfg Config, set Settings) (*Bucket, error) {
	if set.Holder == "" {
		return nil, errors.New("lease: no holder name")
	}
	if set.Now == nil {
		set.Now = time.Now
	}
	if set.Logger == nil {
		set.Logger = slog.New(slog.DiscardHandler)
	}
	kv, err := js.KeyValue(ctx, cfg.Bucket)
	if errors.Is(err, jetstream.ErrBucketNotFound) {
		kv, err = js.CreateKeyValue(ctx, BucketConfig(cfg))
		if errors.Is(err, jetstream.ErrBucketExists) { // another replica was quicker
			kv, err = js.KeyValue(ctx, cfg.Bucket)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("lease bucket %s: %w", cfg.Bucket, err)
	}
	st, err := kv.Status(ctx)
	if err != nil {
		return nil, fmt.Errorf("lease bucket %s: %w", cfg.Bucket, err)
	}
	ttl := st.TTL()
	if ttl < MinTTL {
		return nil, fmt.Errorf("lease bucket %s: TTL %s is under %s; delete the bucket to have it made again", cfg.Bucket, ttl, MinTTL)
	}
	if ttl != cfg.TTL {
		set.Logger.Warn("the lease bucket keeps the TTL it was created with; delete it while no replica runs to change it",
			"bucket", cfg.Bucket, "ttl", ttl.String(), "configured", cfg.TTL.String())
	}
	return &Bucket{kv: kv, holder: set.Holder, ttl: ttl, now: set.Now}, nil
}

// BucketConfig returns the key-value configuration of a lease bucket.
func BucketConfig(c Config) jetstream.KeyValueConfig {
	kc := jetstream.KeyValueConfig{
		Bucket: c.Bucket, Description: c.Description, History: 1, TTL: c.TTL,
		Replicas: max(c.Replicas, 1), Storage: jetstream.FileStorage,
	}
	if c.Memory {
		kc.Storage = jetstream.MemoryStorage
	}
	return kc
}

// TTL is the bucket's: how long an entry outlives its last write.
func (b *Bucket) TTL() time.Duration { return b.ttl }

// Every is how often a holder renews, and the guard it keeps before a
// lease could lapse: a fifth of the TTL.
func (b *Bucket) Every() time.Duration { return b.ttl / 5 }

// Holder is the name this replica holds keys under.
func (b *Bucket) Holder() string { return b.holder }

// value is what a key holds. Values written before this format (a bare
// holder name, or {"owner", "done"}) are read too.
type value struct {
	Holder string `json:"holder"`
	State  string `json:"state,omitempty"`
	Owner  string `json:"owner,omitempty"` // older transcript claims
	Done   string `json:"done,omitempty"`
}

func (b *Bucket) encode(state string) []byte {
	v, _ := json.Marshal(value{Holder: b.holder, State: state})
	return v
}

func decode(raw []byte) (holder, state string) {
	var v value
	if len(raw) == 0 || raw[0] != '{' || json.Unmarshal(raw, &v) != nil {
		return string(raw), ""
	}
	return cmp(v.Holder, v.Owner), cmp(v.State, v.Done)
}

func cmp(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// Who returns the holder of key and the state it gave it; "" when free.
func (b *Bucket) Who(ctx context.Context, key string) (holder, state string, err error) {
	e, err := b.kv.Get(ctx, key)
	switch {
	case errors.Is(err, jetstream.ErrKeyNotFound):
		return "", "", nil
	case err != nil:
		return "", "", fmt.Errorf("lease %s: %w", key, err)
	}
	holder, state = decode(e.Value())
	return holder, state, nil
}

// Acquire takes key for this holder when it is free, or when it holds this
// holder's own name and no state (left by an earlier run under the same
// name: taken back at once). Otherwise it returns a *HeldError (ErrHeld);
// any other error is the bucket's.
func (b *Bucket) Acquire(ctx context.Context, key string) (*Lease, error) {
	l := &Lease{b: b, key: key}
	err := l.write(ctx, "")
	if !errors.Is(err, errConflict) {
		if err != nil {
			return nil, err
		}
		return l, nil
	}
	e, err := b.kv.Get(ctx, key)
	switch {
	case errors.Is(err, jetstream.ErrKeyNotFound):
		return b.Acquire(ctx, key) // released meanwhile
	case err != nil:
		return nil, fmt.Errorf("lease %s: %w", key, err)
	}
	holder, state := decode(e.Value())
	if holder != b.holder || state != "" {
		return nil, &HeldError{Key: key, Holder: holder, State: state}
	}
	l.rev = e.Revision()
	if err := l.write(ctx, ""); err != nil {
		if errors.Is(err, errConflict) {
			return nil, &HeldError{Key: key, Holder: "another replica"}
		}
		return nil, err
	}
	return l, nil
}
