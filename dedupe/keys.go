package dedupe

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
)

// KeysConfig is what users set for natural-key deduplication across sources.
type KeysConfig struct {
	ReservationTimeout time.Duration `env:"CONNECTOR_DEDUPE_RESERVATION_TIMEOUT, default=30s" help:"a natural key reserved this long by an append that never finished (a crashed replica) is taken over"`
}

// Validate reports every problem of the configuration. appendTimeout is the
// journal's: a reservation must outlive the append it guards.
func (c KeysConfig) Validate(appendTimeout time.Duration) error {
	if c.ReservationTimeout <= appendTimeout {
		return fmt.Errorf("CONNECTOR_DEDUPE_RESERVATION_TIMEOUT: %s must be longer than the journal append timeout %s", c.ReservationTimeout, appendTimeout)
	}
	return nil
}

// KeysBucket returns the name of the KV bucket of natural keys for the
// journal stream of that name.
func KeysBucket(stream string) string { return stream + "_NATURAL_KEYS" }

// Errors of Keys.Reserve.
var (
	// ErrCommitted reports a key another event has taken: the caller's event
	// is a duplicate. Reserve returns it as a *CommittedError.
	ErrCommitted = errors.New("dedupe: natural key taken")
	// ErrReserved reports a key an append in flight holds; ask again shortly.
	ErrReserved = errors.New("dedupe: natural key reserved by an append in flight")
)

// CommittedError says which event took a key.
type CommittedError struct {
	Key     string
	EventID string // the event journaled under the key
	Seq     uint64 // its journal sequence
}

func (e *CommittedError) Error() string {
	return fmt.Sprintf("dedupe: natural key %s taken by %s (seq %d)", e.Key, e.EventID, e.Seq)
}

// Is makes errors.Is(err, ErrCommitted) true.
func (e *CommittedError) Is(target error) bool { return target == ErrCommitted }

// Keys is the shared record of natural keys: a NATS KV bucket whose entries
// live for the dedupe window, so it survives restarts and every replica sees
// it. An entry is reserved while its event is being appended and committed
// once the journal has it; a reservation is deleted when the append fails.
// It is safe for concurrent use.
type Keys struct {
	kv    jetstream.KeyValue
	stale time.Duration
	now   func() time.Time
	log   *slog.Logger
	ops   *prometheus.CounterVec
}

// KeysSettings is what the wiring passes to Keys.
type KeysSettings struct {
	Logger     *slog.Logger
	Registerer prometheus.Registerer
	Now        func() time.Time // nil for time.Now
}

// OpenKeys creates (or updates) the bucket KeysBucket(stream) with the given
// TTL (the dedupe window) and replicas, and returns the store on it.
func OpenKeys(ctx context.Context, js jetstream.JetStream, stream string, ttl time.Duration, replicas int, cfg KeysConfig, set KeysSettings) (*Keys, error) {
	kv, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket:      KeysBucket(stream),
		Description: "natural keys of journaled events, for dedupe across sources (agentphone-connector)",
		History:     1,
		TTL:         ttl,
		Replicas:    replicas,
		Storage:     jetstream.FileStorage,
	})
	if err != nil {
		return nil, fmt.Errorf("open natural keys: %w", err)
	}
	k := &Keys{kv: kv, stale: cfg.ReservationTimeout, now: set.Now, log: set.Logger,
		ops: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "connector_dedupe_natural_keys_total",
			Help: "Natural-key operations, by outcome (reserved, committed, duplicate, busy, released, taken_over, marked, failed).",
		}, []string{"outcome"})}
	if k.now == nil {
		k.now = time.Now
	}
	if k.log == nil {
		k.log = slog.New(slog.DiscardHandler)
	}
	if set.Registerer != nil {
		if err := set.Registerer.Register(k.ops); err != nil {
			return nil, err
		}
	}
	return k, nil
}

// Reservation is a key held by one append until Commit or Release.
type Reservation struct {
	Key string
	rev uint64
}

// keyState is the value of an entry.
type keyState struct {
	Committed bool   `json:"committed,omitempty"`
	EventID   string `json:"event_id,omitempty"`
	Seq       uint64 `json:"seq,omitempty"`
	At        int64  `json:"at"` // unix nanoseconds of the reservation or commit
}

// Reserve takes key for an append. It fails with a *CommittedError when an
// event holds the key already, ErrReserved while another append holds it
// (younger than the reservation timeout; an older one is taken over), and
// any other error when the bucket cannot be reached.
func (k *Keys) Reserve(ctx context.Context, key string) (Reservation, error) {
	kvKey := bucketKey(key)
	val := k.encode(keyState{})
	for range 3 { // the entry can vanish (released, expired) between reads
		rev, err := k.kv.Create(ctx, kvKey, val)
		if err == nil {
			k.ops.WithLabelValues("reserved").Inc()
			return Reservation{Key: key, rev: rev}, nil
		}
		if !errors.Is(err, jetstream.ErrKeyExists) {
			k.ops.WithLabelValues("failed").Inc()
			return Reservation{}, fmt.Errorf("reserve %s: %w", key, err)
		}
		r, err, again := k.contend(ctx, key, kvKey, val)
		if !again {
			return r, err
		}
	}
	k.ops.WithLabelValues("busy").Inc()
	return Reservation{}, fmt.Errorf("%w: %s changes too fast", ErrReserved, key)
}

// contend handles a key that exists: committed, reserved, or reserved by an
// append that never finished. again asks the caller to start over.
func (k *Keys) contend(ctx context.Context, key, kvKey string, val []byte) (r Reservation, err error, again bool) {
	entry, err := k.kv.Get(ctx, kvKey)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return Reservation{}, nil, true
	}
	if err != nil {
		k.ops.WithLabelValues("failed").Inc()
		return Reservation{}, fmt.Errorf("reserve %s: %w", key, err), false
	}
	var st keyState
	_ = json.Unmarshal(entry.Value(), &st) // an unreadable entry counts as a stale reservation
	switch {
	case st.Committed:
		k.ops.WithLabelValues("duplicate").Inc()
		return Reservation{}, &CommittedError{Key: key, EventID: st.EventID, Seq: st.Seq}, false
	case k.now().Sub(time.Unix(0, st.At)) < k.stale:
		k.ops.WithLabelValues("busy").Inc()
		return Reservation{}, fmt.Errorf("%w: %s", ErrReserved, key), false
	}
	rev, err := k.kv.Update(ctx, kvKey, val, entry.Revision())
	if errors.Is(err, jetstream.ErrKeyRevisionMismatch) {
		return Reservation{}, nil, true // someone else moved first
	}
	if err != nil {
		k.ops.WithLabelValues("failed").Inc()
		return Reservation{}, fmt.Errorf("reserve %s: %w", key, err), false
	}
	k.ops.WithLabelValues("taken_over").Inc()
	k.log.Warn("natural key: took over a reservation whose append never finished", "key", key,
		"reserved_at", time.Unix(0, st.At).UTC())
	return Reservation{Key: key, rev: rev}, nil, false
}

// Commit makes r final: eventID, journaled at seq, holds the key for the
// rest of the window. It fails when the bucket cannot be reached, or when the
// reservation was taken over meanwhile (it had outlived the timeout).
func (k *Keys) Commit(ctx context.Context, r Reservation, eventID string, seq uint64) error {
	val := k.encode(keyState{Committed: true, EventID: eventID, Seq: seq})
	if _, err := k.kv.Update(ctx, bucketKey(r.Key), val, r.rev); err != nil {
		k.ops.WithLabelValues("failed").Inc()
		return fmt.Errorf("commit %s: %w", r.Key, err)
	}
	k.ops.WithLabelValues("committed").Inc()
	return nil
}

// Release gives r up after a failed append, so the next attempt (the
// provider's retry, the next backfill) takes the key. A reservation already
// taken over is left alone.
func (k *Keys) Release(ctx context.Context, r Reservation) error {
	err := k.kv.Delete(ctx, bucketKey(r.Key), jetstream.LastRevision(r.rev))
	if err != nil && !errors.Is(err, jetstream.ErrKeyRevisionMismatch) {
		k.ops.WithLabelValues("failed").Inc()
		return fmt.Errorf("release %s: %w", r.Key, err)
	}
	k.ops.WithLabelValues("released").Inc()
	return nil
}

// Mark records key as taken for the window without an event of its own:
// a fact about what the journal holds, such as connector.TranscriptKey.
func (k *Keys) Mark(ctx context.Context, key string) error {
	if _, err := k.kv.Put(ctx, bucketKey(key), k.encode(keyState{Committed: true})); err != nil {
		k.ops.WithLabelValues("failed").Inc()
		return fmt.Errorf("mark %s: %w", key, err)
	}
	k.ops.WithLabelValues("marked").Inc()
	return nil
}

// Committed reports whether an event holds key, or key was marked, without
// reserving it.
func (k *Keys) Committed(ctx context.Context, key string) (bool, error) {
	entry, err := k.kv.Get(ctx, bucketKey(key))
	switch {
	case errors.Is(err, jetstream.ErrKeyNotFound):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("look up %s: %w", key, err)
	}
	var st keyState
	return json.Unmarshal(entry.Value(), &st) == nil && st.Committed, nil
}

func (k *Keys) encode(st keyState) []byte {
	st.At = k.now().UnixNano()
	b, _ := json.Marshal(st) // a struct of strings and numbers
	return b
}

var kvKeyChars = regexp.MustCompile(`^[-_=a-zA-Z0-9]+(\.[-_=a-zA-Z0-9]+)*$`)

// bucketKey maps a natural key to a KV key: ":" becomes ".", and a key with
// other characters than KV keys allow is replaced by its hash.
func bucketKey(key string) string {
	b := []byte(key)
	for i, c := range b {
		if c == ':' {
			b[i] = '.'
		}
	}
	if s := string(b); len(s) <= 256 && kvKeyChars.MatchString(s) {
		return s
	}
	sum := sha256.Sum256([]byte(key))
	return "sha256." + hex.EncodeToString(sum[:])
}
