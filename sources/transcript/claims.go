package transcript

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// ClaimsBucket returns the name of the KV bucket of call claims for the
// journal stream of that name.
func ClaimsBucket(stream string) string { return stream + "_TRANSCRIPT_CLAIMS" }

// claims records which replica follows which call, in a KV bucket whose
// entries lapse ClaimTTL after their last write: a replica renews its claims
// while it follows, and a crashed replica's claims lapse so another takes
// over. A call that ended is marked done, so no replica opens it again
// while the mark lasts.
type claims struct {
	kv    jetstream.KeyValue
	owner string
}

// claim is one call held by this replica.
type claim struct {
	key string
	rev uint64
}

type claimValue struct {
	Owner string `json:"owner"`
	Done  string `json:"done,omitempty"` // why following stopped for good: ended, not_found, unauthorized
	At    int64  `json:"at"`
}

// Outcomes of take besides a claim.
var (
	errClaimed = errors.New("transcript: another replica follows the call")
	errDone    = errors.New("transcript: the call was followed to its end")
)

func openClaims(ctx context.Context, js jetstream.JetStream, stream string, ttl time.Duration, replicas int, owner string) (*claims, error) {
	kv, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket:      ClaimsBucket(stream),
		Description: "which connector replica follows which call's transcript stream (agentphone-connector)",
		History:     1,
		TTL:         ttl,
		Replicas:    replicas,
		Storage:     jetstream.FileStorage,
	})
	if err != nil {
		return nil, fmt.Errorf("open transcript claims: %w", err)
	}
	return &claims{kv: kv, owner: owner}, nil
}

// take claims callID for this replica. It fails with errClaimed when
// another replica holds it, errDone when the call was followed to its end,
// or the bucket's error.
func (c *claims) take(ctx context.Context, callID string) (*claim, error) {
	key := claimKey(callID)
	rev, err := c.kv.Create(ctx, key, c.value(""))
	if err == nil {
		return &claim{key: key, rev: rev}, nil
	}
	if !errors.Is(err, jetstream.ErrKeyExists) {
		return nil, err
	}
	entry, err := c.kv.Get(ctx, key)
	if err != nil {
		return nil, err // gone meanwhile: the next discovery tries again
	}
	var v claimValue
	_ = json.Unmarshal(entry.Value(), &v)
	switch {
	case v.Done != "":
		return nil, errDone
	case v.Owner != c.owner:
		return nil, errClaimed
	}
	// Ours, left by an earlier run of this replica: take it back.
	rev, err = c.kv.Update(ctx, key, c.value(""), entry.Revision())
	if err != nil {
		return nil, err
	}
	return &claim{key: key, rev: rev}, nil
}

// renew extends cl for another TTL. It fails with
// jetstream.ErrKeyRevisionMismatch or ErrKeyNotFound once the claim has
// lapsed or was taken over.
func (c *claims) renew(ctx context.Context, cl *claim) error {
	rev, err := c.kv.Update(ctx, cl.key, c.value(""), cl.rev)
	if err != nil {
		return err
	}
	cl.rev = rev
	return nil
}

// finish marks the call done for the claim's remaining life.
func (c *claims) finish(ctx context.Context, cl *claim, why string) error {
	_, err := c.kv.Update(ctx, cl.key, c.value(why), cl.rev)
	return err
}

// release gives the call up for another replica (or this one) to claim.
func (c *claims) release(ctx context.Context, cl *claim) error {
	err := c.kv.Delete(ctx, cl.key, jetstream.LastRevision(cl.rev))
	if errors.Is(err, jetstream.ErrKeyRevisionMismatch) {
		return nil // lapsed and taken: not ours to delete
	}
	return err
}

func (c *claims) value(done string) []byte {
	b, _ := json.Marshal(claimValue{Owner: c.owner, Done: done, At: time.Now().UnixNano()})
	return b
}

var claimKeyChars = regexp.MustCompile(`^[-_=a-zA-Z0-9]+$`)

// claimKey is the call ID when it is a valid KV key, else its hash.
func claimKey(callID string) string {
	if len(callID) <= 200 && claimKeyChars.MatchString(callID) {
		return callID
	}
	sum := sha256.Sum256([]byte(callID))
	return "sha256_" + hex.EncodeToString(sum[:])
}
