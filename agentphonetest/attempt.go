package agentphonetest

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"strconv"
	"time"
)

// run walks d through the retry schedule:
//
//	attempt 1 ─▶ 2xx: success   4xx (or 3xx): failed   5xx, timeout, no connection:
//	  wait schedule[1] × TimeScale ─▶ attempt 2 ─▶ … ─▶ attempt 6 ─▶ failed
//
// Every attempt is re-signed with a fresh timestamp unless
// Quirks.ReuseTimestamp. Close stops the walk; the delivery stays pending.
func (s *Server) run(d *Delivery) {
	defer s.work.Done()
	defer close(d.done)
	var skipped time.Duration // provider time the TimeScale has left out so far
	var firstTS int64
	last := len(s.opts.RetrySchedule) - 1
	for i, delay := range s.opts.RetrySchedule {
		if delay > 0 {
			wait := scaled(delay, s.opts.TimeScale)
			d.setNext(s.clock.Now().Add(wait))
			if sleep(s.ctx, s.clock, wait) != nil {
				d.setNext(time.Time{})
				return
			}
			skipped += delay - wait
		}
		now := s.clock.Now()
		unix := now.Add(-d.rec.Misbehavior.StaleBy).Unix()
		switch {
		case i == 0:
			firstTS = unix
		case s.opts.Quirks.ReuseTimestamp:
			unix = firstTS - int64(skipped/time.Second)
		}
		a := s.attempt(d, i+1, strconv.FormatInt(unix, 10), now)
		if s.ctx.Err() != nil && a.StatusCode == 0 {
			return // cut short by Close: not an answer of the receiver's
		}
		state := DeliveryPending
		switch {
		case a.succeeded():
			state = DeliverySuccess
		case !a.retryable() || i == last:
			state = DeliveryFailed
		}
		d.record(a, state)
		s.log.Debug("webhook attempt", "delivery", d.rec.ID, "webhook_id", d.rec.WebhookID, "attempt", a.N,
			"status", a.StatusCode, "error", a.Err, "state", state)
		if state != DeliveryPending {
			return
		}
	}
}

// attempt POSTs d's body once, signed at timestamp ts.
func (s *Server) attempt(d *Delivery, n int, ts string, at time.Time) Attempt {
	a := Attempt{N: n, At: at, Timestamp: ts}
	select {
	case s.inflight <- struct{}{}:
		defer func() { <-s.inflight }()
	case <-s.ctx.Done():
		a.Err = ErrClosed.Error()
		return a
	}
	secret := d.hook.Secret
	if d.rec.Misbehavior.WrongSecret {
		secret += "_wrong"
	}
	ev := d.rec.Event
	a.Signature = Sign(secret, ts, ev.Body)
	ctx, cancel := context.WithTimeout(s.ctx, d.hook.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.hook.URL, bytes.NewReader(ev.Body))
	if err != nil {
		a.Err = err.Error()
		return a
	}
	// The provider's spelling of the names (SPEC.md 2.7), set as is.
	req.Header["Content-Type"] = []string{"application/json"}
	req.Header["X-Webhook-ID"] = []string{ev.WebhookID}
	req.Header["X-Webhook-Timestamp"] = []string{ts}
	req.Header["X-Webhook-Signature"] = []string{a.Signature}
	if !s.opts.Quirks.OmitEventHeader {
		req.Header["X-Webhook-Event"] = []string{ev.Name}
	}
	resp, err := s.client.Do(req)
	if err != nil {
		a.Err = err.Error()
		a.Timeout = errors.Is(ctx.Err(), context.DeadlineExceeded)
		return a
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // so the connection can be reused
	a.StatusCode, a.ResponseBody = resp.StatusCode, string(body)
	return a
}

func (d *Delivery) setNext(t time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.rec.NextRetryAt = t
}

func (d *Delivery) record(a Attempt, state DeliveryState) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.rec.Attempts = append(d.rec.Attempts, a)
	d.rec.State = state
	d.rec.NextRetryAt = time.Time{}
}
