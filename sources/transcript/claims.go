package transcript

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/agentphone-connector/connector/lease"
)

// ClaimsBucket returns the name of the KV bucket of call claims for the
// journal stream of that name.
func ClaimsBucket(stream string) string { return stream + "_TRANSCRIPT_CLAIMS" }

// claims records which replica follows which call: one lease per call (see
// package lease), in a bucket whose entries lapse ClaimTTL after their last
// write. A replica renews its claims while it follows, and a crashed
// replica's claims lapse so another takes over; one restarted under the
// same name takes its own back at once. A call that ended is marked done
// (the lease's state), so no replica opens it again while the mark lasts.
type claims struct {
	b *lease.Bucket
}

// claim is one call held by this replica.
type claim struct {
	l *lease.Lease
}

// Outcomes of take besides a claim.
var (
	errClaimed = errors.New("transcript: another replica follows the call")
	errDone    = errors.New("transcript: the call was followed to its end")
)

func openClaims(ctx context.Context, js jetstream.JetStream, stream string, ttl time.Duration, replicas int, owner string) (*claims, error) {
	b, err := lease.Open(ctx, js, lease.Config{
		Bucket:      ClaimsBucket(stream),
		Description: "which connector replica follows which call's transcript stream (agentphone-connector)",
		TTL:         ttl,
		Replicas:    replicas,
	}, lease.Settings{Holder: owner})
	if err != nil {
		return nil, fmt.Errorf("open transcript claims: %w", err)
	}
	return &claims{b: b}, nil
}

// take claims callID for this replica. It fails with errClaimed when
// another replica holds it, errDone when the call was followed to its end,
// or the bucket's error.
func (c *claims) take(ctx context.Context, callID string) (*claim, error) {
	l, err := c.b.Acquire(ctx, claimKey(callID))
	var held *lease.HeldError
	switch {
	case errors.As(err, &held) && held.State != "":
		return nil, errDone
	case errors.As(err, &held):
		return nil, errClaimed
	case err != nil:
		return nil, err
	}
	return &claim{l: l}, nil
}

// finish marks the call done for the claim's remaining life.
func (c *claims) finish(ctx context.Context, cl *claim, why string) error {
	return cl.l.Finish(ctx, why)
}

// release gives the call up for another replica (or this one) to claim.
func (c *claims) release(ctx context.Context, cl *claim) error {
	return cl.l.Release(ctx)
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
