package transcript

import (
	"context"
	"errors"
	"io"
	"time"

	connector "github.com/agentphone-connector/connector"
	"github.com/agentphone-connector/connector/sources/agentphoneapi"
	"github.com/agentphone-connector/connector/transform"
)

// maxEvent is the largest server-sent event read; a turn is far smaller.
const maxEvent = 1 << 20

var (
	errStalled   = errors.New("transcript: stream silent for three heartbeats")
	errClaimLost = errors.New("transcript: claim lapsed or taken over")
)

// isFinal reports whether a connection's outcome stops following the call
// for good; any other outcome is retried.
func isFinal(outcome string) bool {
	switch outcome {
	case "ended", "not_found", "unauthorized", "rejected":
		return true
	}
	return false
}

// follow follows one call until its stream ends, fails for good, the claim
// is lost or the source closes, then settles the claim:
//
//	connect ─▶ replay + live turns ─▶ ended ─▶ claim marked done
//	   ▲            │ dropped, stalled (3 heartbeats of silence),
//	   │            │ 429, 5xx, journal unavailable
//	   └─ backoff ◀─┘ (Retry-After on 429; MaxFailures in a row without
//	                   a new turn: released, left to the next discovery)
//	404, 401, 403 ─▶ stop, claim marked done
func (s *Source) follow(ctx context.Context, c Call, cl *claim) {
	s.m.streams.Inc()
	defer s.m.streams.Dec()
	ctx, cancel := context.WithCancelCause(ctx)
	renewed := make(chan struct{})
	go func() { defer close(renewed); s.keepClaim(ctx, cancel, c, cl) }()
	s.log.Debug("following call", "call_id", c.ID)
	reason := s.run(ctx, c)
	cancel(nil)
	<-renewed
	s.settle(c, cl, reason)
}

// run connects again and again until a final outcome or ctx ends; it
// returns why it stopped.
func (s *Source) run(ctx context.Context, c Call) string {
	backoff := connector.Backoff{Min: s.cfg.RetryMin, Max: s.cfg.RetryMax}
	failures := 0
	for {
		o := s.connect(ctx, c)
		if ctx.Err() != nil {
			return stopReason(ctx)
		}
		s.m.connects.WithLabelValues(o.outcome).Inc()
		if isFinal(o.outcome) {
			return o.outcome
		}
		if o.progress {
			failures = 0
		} else if failures++; failures >= s.cfg.MaxFailures {
			return "gave_up"
		}
		wait := max(backoff.Delay(failures), o.retryAfter)
		s.log.Debug("transcript stream interrupted", "call_id", c.ID, "outcome", o.outcome, "error", o.err, "retry_in", wait.String())
		if s.sleep(ctx, wait) != nil {
			return stopReason(ctx)
		}
	}
}

func stopReason(ctx context.Context) string {
	if errors.Is(context.Cause(ctx), errClaimLost) {
		return "claim_lost"
	}
	return "closed"
}

// outcome is how one connection ended.
type outcome struct {
	outcome    string
	progress   bool          // it journaled a new turn, or stayed healthy for a while
	retryAfter time.Duration // the server's Retry-After on 429
	err        error
}

// connect opens the stream once and journals its turns until it ends.
func (s *Source) connect(ctx context.Context, c Call) outcome {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	body, err := s.d.API.OpenTranscriptStream(ctx, c.ID)
	if err != nil {
		return openFailed(err)
	}
	defer body.Close()
	w := newWatchdog(3*s.cfg.Heartbeat, func() { cancel(errStalled) })
	defer w.stop()
	start := time.Now()
	o := s.read(ctx, c, NewSSEReader(w.reader(body), maxEvent), w)
	if errors.Is(context.Cause(ctx), errStalled) {
		o.outcome = "stalled"
	}
	if time.Since(start) >= 3*s.cfg.Heartbeat {
		o.progress = true // healthy for a while: the next failure starts a fresh backoff
	}
	return o
}

func openFailed(err error) outcome {
	var apiErr *agentphoneapi.Error
	o := outcome{outcome: "error", err: err}
	switch {
	case errors.Is(err, agentphoneapi.ErrNotFound):
		o.outcome = "not_found"
	case errors.Is(err, agentphoneapi.ErrUnauthorized):
		o.outcome = "unauthorized"
	case errors.As(err, &apiErr) && errors.Is(err, agentphoneapi.ErrRateLimited):
		o.outcome, o.retryAfter = "rate_limited", apiErr.RetryAfter
	case connector.IsPermanent(err):
		o.outcome = "rejected"
	}
	return o
}

// read journals the stream's turns, numbering them from 0: every
// connection replays the call from its first turn (SPEC.md 4.1), so a
// turn's position, and with it its event ID, is the same on every
// connection and the journal drops the replayed ones.
func (s *Source) read(ctx context.Context, c Call, r *SSEReader, w *watchdog) outcome {
	meta := transform.TurnMeta{CallID: c.ID, AgentID: c.AgentID, Direction: c.Direction, Source: SourceName}
	var o outcome
	pos := 0
	for {
		m, err := r.Next()
		switch {
		case err != nil:
			o.outcome, o.err = "dropped", err
			if errors.Is(err, io.EOF) {
				o.err = io.ErrUnexpectedEOF // closed before ended
			}
			return o
		case m.Event == "ended":
			o.outcome = "ended"
			return o
		case m.Event != "turn" || transform.Interim(m.Data):
			continue // connected, heartbeats, names added later
		}
		meta.ReceivedAt = s.now()
		for _, e := range transform.Turns(meta, pos, m.Data) {
			w.pause()
			res, err := s.d.Journal.Append(ctx, e)
			w.resume()
			if err != nil {
				o.outcome, o.err = "append_failed", err
				return o
			}
			o.progress = o.progress || !res.Duplicate
			pos++
		}
	}
}

// keepClaim renews cl (every fifth of the TTL, see lease.Lease.Keep) until
// ctx ends. A claim that lapsed is taken again when no other replica took
// it; when one did, or renewals fail until the claim could lapse, keepClaim
// cancels ctx with errClaimLost and leaves the call to that replica.
func (s *Source) keepClaim(ctx context.Context, cancel context.CancelCauseFunc, c Call, cl *claim) {
	if err := cl.l.Keep(ctx); err != nil {
		s.log.Debug("transcript claim lost", "call_id", c.ID, "error", err)
		cancel(errClaimLost)
	}
}

// settle records how following ended: done for final outcomes, released
// otherwise so that a replica (maybe this one) can follow the call again.
func (s *Source) settle(c Call, cl *claim, reason string) {
	s.m.stops.WithLabelValues(reason).Inc()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var err error
	if reason == "ended" && s.d.Marks != nil {
		err = s.d.Marks.Mark(ctx, connector.TranscriptKey(c.ID)) // every turn up to ended is journaled
	}
	switch {
	case isFinal(reason):
		err = errors.Join(err, s.claims.finish(ctx, cl, reason))
	case reason != "claim_lost":
		err = s.claims.release(ctx, cl)
	}
	s.dropSlot(c.ID, isFinal(reason))
	switch reason {
	case "ended", "closed":
		s.log.Debug("stopped following call", "call_id", c.ID, "reason", reason)
	case "not_found", "unauthorized", "rejected":
		s.log.Warn("transcript stream refused; not retrying this call", "call_id", c.ID, "reason", reason)
	default:
		s.log.Info("stopped following call; left to the next discovery", "call_id", c.ID, "reason", reason)
	}
	if err != nil {
		s.log.Debug("transcript claim or completion not recorded; the claim lapses after its TTL", "call_id", c.ID, "error", err)
	}
}
