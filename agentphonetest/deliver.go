package agentphonetest

import (
	"context"
	"slices"
	"sync"
	"time"
)

// DeliveryState is where a delivery stands, as the deliveries log reports it.
type DeliveryState string

// Delivery states.
const (
	DeliveryPending DeliveryState = "pending" // attempts remain, or the server closed mid-schedule
	DeliverySuccess DeliveryState = "success" // an attempt was answered 2xx
	DeliveryFailed  DeliveryState = "failed"  // answered with a status that is not retried, or every attempt failed
)

// Misbehavior makes one delivery depart from the provider's correct
// behaviour. The zero value is a correct delivery.
type Misbehavior struct {
	// Duplicates is how many extra deliveries of the same body with the same
	// X-Webhook-ID start alongside this one, each with its own attempts.
	Duplicates int
	// StaleBy signs every attempt with a timestamp this far in the past;
	// more than the connector's tolerance (5 min) makes it reject them.
	StaleBy time.Duration
	// WrongSecret signs with the route's secret plus "_wrong".
	WrongSecret bool
}

// Attempt is one POST of a delivery.
type Attempt struct {
	N            int       // 1 for the first attempt
	At           time.Time // when it was sent, on the server's clock
	Timestamp    string    // the X-Webhook-Timestamp sent
	Signature    string    // the X-Webhook-Signature sent
	StatusCode   int       // the answer's status; 0 when there was none
	Err          string    // why there was no answer (connection error, timeout); empty otherwise
	Timeout      bool      // no answer within the webhook's timeout
	ResponseBody string    // the first KiB of the answer
}

// retryable reports whether the provider tries again after a: on 5xx, a
// timeout or a connection error, never on 4xx (SPEC.md 1.5). Redirects are
// not followed and not retried.
func (a Attempt) retryable() bool { return a.StatusCode == 0 || a.StatusCode >= 500 }

func (a Attempt) succeeded() bool { return a.StatusCode >= 200 && a.StatusCode < 300 }

// DeliveryRecord is a snapshot of a delivery and its attempts.
type DeliveryRecord struct {
	ID          string // the deliveries log ID
	WebhookID   string // X-Webhook-ID, the same on every attempt and on duplicates
	Event       Event
	URL         string
	Duplicate   bool // an extra delivery made by Misbehavior.Duplicates
	Misbehavior Misbehavior
	State       DeliveryState
	Attempts    []Attempt
	CreatedAt   time.Time
	NextRetryAt time.Time // when the next attempt is due on the server's clock; zero when none is
}

// Retries returns the number of attempts after the first.
func (r DeliveryRecord) Retries() int { return max(0, len(r.Attempts)-1) }

// Delivery is one webhook delivery in progress or done.
type Delivery struct {
	hook Webhook
	done chan struct{}
	mu   sync.Mutex
	rec  DeliveryRecord
}

// Done returns a channel closed when the delivery has succeeded, failed for
// good, or stopped because the server closed.
func (d *Delivery) Done() <-chan struct{} { return d.done }

// Record returns a snapshot of the delivery.
func (d *Delivery) Record() DeliveryRecord {
	d.mu.Lock()
	defer d.mu.Unlock()
	r := d.rec
	r.Attempts = slices.Clone(r.Attempts)
	return r
}

// Wait blocks until the delivery is done, then returns its record; it returns
// ctx's error if ctx ends first.
func (d *Delivery) Wait(ctx context.Context) (DeliveryRecord, error) {
	select {
	case <-d.done:
		return d.Record(), nil
	case <-ctx.Done():
		return d.Record(), ctx.Err()
	}
}

// Deliver starts delivering ev to its agent's webhook route (or the
// project's) and returns at once; attempts follow the retry schedule in the
// background until one is answered 2xx or with a status that is not retried.
// m makes the delivery misbehave; with m.Duplicates the extra deliveries are
// in Deliveries. ev.Body must not be modified afterwards. Deliver fails with
// ErrNoWebhook when no route takes ev and ErrClosed after Close.
func (s *Server) Deliver(ev Event, m Misbehavior) (*Delivery, error) {
	hook, ok := s.webhookFor(ev.AgentID)
	if !ok {
		return nil, ErrNoWebhook
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, ErrClosed
	}
	if ev.WebhookID == "" {
		ev.WebhookID = s.newIDLocked("whd_", 16)
	}
	first := s.newDeliveryLocked(ev, hook, m, false)
	for range m.Duplicates {
		s.newDeliveryLocked(ev, hook, m, true)
	}
	return first, nil
}

func (s *Server) newDeliveryLocked(ev Event, hook Webhook, m Misbehavior, dup bool) *Delivery {
	id := s.newIDLocked("dlv_", 16)
	if s.opts.Quirks.DeliveryIDIsWebhookID {
		id = ev.WebhookID
	}
	d := &Delivery{hook: hook, done: make(chan struct{}), rec: DeliveryRecord{
		ID: id, WebhookID: ev.WebhookID, Event: ev, URL: hook.URL, Duplicate: dup, Misbehavior: m,
		State: DeliveryPending, CreatedAt: s.clock.Now(),
	}}
	s.deliveries = append(s.deliveries, d)
	s.work.Add(1)
	go s.run(d)
	return d
}

func (s *Server) webhookFor(agentID string) (Webhook, bool) {
	var project *Webhook
	for i, w := range s.opts.Webhooks {
		switch w.AgentID {
		case agentID:
			if agentID != "" {
				return w, true
			}
			project = &s.opts.Webhooks[i]
		case "":
			project = &s.opts.Webhooks[i]
		}
	}
	if project == nil {
		return Webhook{}, false
	}
	return *project, true
}

// Deliveries returns a snapshot of every delivery, in the order they were
// made.
func (s *Server) Deliveries() []DeliveryRecord {
	s.mu.Lock()
	ds := slices.Clone(s.deliveries)
	s.mu.Unlock()
	out := make([]DeliveryRecord, len(ds))
	for i, d := range ds {
		out[i] = d.Record()
	}
	return out
}

// WaitDeliveries blocks until every delivery made so far is done, or ctx
// ends.
func (s *Server) WaitDeliveries(ctx context.Context) error {
	s.mu.Lock()
	ds := slices.Clone(s.deliveries)
	s.mu.Unlock()
	for _, d := range ds {
		if _, err := d.Wait(ctx); err != nil {
			return err
		}
	}
	return nil
}
