package dedupe

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// MarksBucket returns the name of the KV bucket of marks for the journal
// stream of that name.
func MarksBucket(stream string) string { return stream + "_MARKS" }

// Marks records facts about what the journal holds that no single event
// states, such as "every turn of this call is journaled"
// (connector.TranscriptKey), so that sources need not check them again. It
// is a NATS KV bucket whose entries live for the dedupe window: it survives
// restarts and every replica sees it. A mark is a hint that saves work; a
// missing one only means the work is done again, and the journal's dedupe
// drops what it repeats. Marks is safe for concurrent use.
type Marks struct {
	kv jetstream.KeyValue
}

// OpenMarks creates (or updates) the bucket MarksBucket(stream) with the
// given TTL (the dedupe window) and replicas.
func OpenMarks(ctx context.Context, js jetstream.JetStream, stream string, ttl time.Duration, replicas int) (*Marks, error) {
	kv, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket:      MarksBucket(stream),
		Description: "facts about what the journal holds (agentphone-connector)",
		History:     1,
		TTL:         ttl,
		Replicas:    replicas,
		Storage:     jetstream.FileStorage,
	})
	if err != nil {
		return nil, fmt.Errorf("open marks: %w", err)
	}
	return &Marks{kv: kv}, nil
}

// Mark records key for the window.
func (m *Marks) Mark(ctx context.Context, key string) error {
	if _, err := m.kv.Put(ctx, bucketKey(key), nil); err != nil {
		return fmt.Errorf("mark %s: %w", key, err)
	}
	return nil
}

// Marked reports whether key was marked within the window.
func (m *Marks) Marked(ctx context.Context, key string) (bool, error) {
	_, err := m.kv.Get(ctx, bucketKey(key))
	switch {
	case errors.Is(err, jetstream.ErrKeyNotFound):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("look up %s: %w", key, err)
	}
	return true, nil
}

var kvKeyChars = regexp.MustCompile(`^[-_=a-zA-Z0-9]+(\.[-_=a-zA-Z0-9]+)*$`)

// bucketKey maps a key to a KV key: ":" becomes ".", and a key with other
// characters than KV keys allow is replaced by its hash.
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
