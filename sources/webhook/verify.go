package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"hash"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Verification failures. Each is answered 401: no retry of the same request
// can fix it.
var (
	ErrNoSignature        = errors.New("webhook: missing X-Webhook-Signature")
	ErrNoTimestamp        = errors.New("webhook: missing X-Webhook-Timestamp")
	ErrBadTimestamp       = errors.New("webhook: X-Webhook-Timestamp is not unix seconds")
	ErrMalformedSignature = errors.New("webhook: X-Webhook-Signature is not sha256=<64 hex>")
	ErrBadSignature       = errors.New("webhook: signature does not match")
	ErrStaleTimestamp     = errors.New("webhook: timestamp too old")
	ErrFutureTimestamp    = errors.New("webhook: timestamp too far in the future")
)

// Verifier checks AgentPhone's webhook signature (SPEC.md 1.3):
//
//	X-Webhook-Signature = "sha256=" + hex(HMAC-SHA256(secret, timestamp + "." + raw body))
//
// with the timestamp within ±tolerance of now. Any of several secrets may
// match, so a secret can be rotated without losing deliveries. A Verifier is
// safe for concurrent use.
type Verifier struct {
	tolerance time.Duration
	macs      []*sync.Pool // one pool of HMAC states per secret
}

// NewVerifier returns a verifier for secrets (used as their bytes, "whsec_"
// prefix included) and the replay window tolerance.
func NewVerifier(secrets []Secret, tolerance time.Duration) *Verifier {
	v := &Verifier{tolerance: tolerance}
	for _, s := range secrets {
		key := []byte(s)
		v.macs = append(v.macs, &sync.Pool{New: func() any { return hmac.New(sha256.New, key) }})
	}
	return v
}

// Verify reports whether body was signed by AgentPhone at timestamp ts with one
// of the verifier's secrets, sig being the X-Webhook-Signature header. The
// signature is checked before the time, so a stale error means an authentic
// but late delivery. The comparison takes constant time.
func (v *Verifier) Verify(body []byte, sig, ts string, now time.Time) error {
	switch {
	case sig == "":
		return ErrNoSignature
	case ts == "":
		return ErrNoTimestamp
	}
	unix, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return ErrBadTimestamp
	}
	var got [sha256.Size]byte
	if !parseSignature(sig, got[:]) {
		return ErrMalformedSignature
	}
	if !v.matches(body, ts, got[:]) {
		return ErrBadSignature
	}
	return v.inWindow(unix, now)
}

// inWindow checks |now - unix| <= tolerance without overflowing for absurd
// timestamps: whole seconds first, then exactly.
func (v *Verifier) inWindow(unix int64, now time.Time) error {
	tol := int64(v.tolerance/time.Second) + 1
	if sec := now.Unix(); unix > sec+tol {
		return ErrFutureTimestamp
	} else if unix < sec-tol {
		return ErrStaleTimestamp
	}
	switch d := now.Sub(time.Unix(unix, 0)); {
	case d < -v.tolerance:
		return ErrFutureTimestamp
	case d > v.tolerance:
		return ErrStaleTimestamp
	}
	return nil
}

// parseSignature decodes "sha256=<hex>" (prefix optional, hex in either case)
// into dst.
func parseSignature(sig string, dst []byte) bool {
	sig = strings.TrimSpace(sig)
	if len(sig) > 7 && strings.EqualFold(sig[:7], "sha256=") {
		sig = sig[7:]
	}
	if len(sig) != hex.EncodedLen(len(dst)) {
		return false
	}
	_, err := hex.Decode(dst, []byte(sig))
	return err == nil
}

func (v *Verifier) matches(body []byte, ts string, got []byte) bool {
	var sum [sha256.Size]byte
	ok := false
	for _, pool := range v.macs {
		m := pool.Get().(hash.Hash)
		m.Reset()
		m.Write([]byte(ts))
		m.Write([]byte{'.'})
		m.Write(body)
		// Compare against every secret, matched or not: the time taken does
		// not say which one matched.
		ok = hmac.Equal(m.Sum(sum[:0]), got) || ok
		pool.Put(m)
	}
	return ok
}
