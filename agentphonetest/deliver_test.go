package agentphonetest

import (
	"bytes"
	"errors"
	"net"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/agentphone-connector/connector/sources/webhook"
)

// Every delivery of a generated day verifies with the connector's verifier
// and carries the provider's headers.
func TestDeliveriesVerifyWithConnectorVerifier(t *testing.T) {
	check := noLeaks(t)
	ctx := testCtx(t)
	rc := newReceiver(t, time.Now, nil)
	acct := Generate(AccountOptions{Seed: 2, Calls: 5, Messages: 10})
	events := append([]Event(nil), acct.Events...)
	s, err := New(Options{Account: acct, Webhooks: []Webhook{{URL: rc.URL(), Secret: testSecret}}})
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range events {
		if _, err := s.Deliver(ev, Misbehavior{}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.WaitDeliveries(ctx); err != nil {
		t.Fatal(err)
	}
	byID := map[string]Event{}
	for _, ev := range events {
		byID[ev.WebhookID] = ev
	}
	reqs := rc.requests()
	if len(reqs) != len(events) {
		t.Fatalf("%d requests for %d events", len(reqs), len(events))
	}
	for _, r := range reqs {
		ev, ok := byID[r.Header.Get("X-Webhook-ID")]
		switch {
		case !ok:
			t.Errorf("request with unknown X-Webhook-ID %q", r.Header.Get("X-Webhook-ID"))
		case r.Verify != nil:
			t.Errorf("%s: connector verifier says %v", ev.WebhookID, r.Verify)
		case !bytes.Equal(r.Body, ev.Body):
			t.Errorf("%s: body changed on the way", ev.WebhookID)
		case r.Header.Get("X-Webhook-Event") != ev.Name || r.Header.Get("Content-Type") != "application/json":
			t.Errorf("%s: event header %q, content type %q", ev.WebhookID, r.Header.Get("X-Webhook-Event"), r.Header.Get("Content-Type"))
		}
	}
	for _, d := range s.Deliveries() {
		if d.State != DeliverySuccess || len(d.Attempts) != 1 || d.Attempts[0].StatusCode != 200 {
			t.Errorf("delivery %s: %s after %d attempts", d.ID, d.State, len(d.Attempts))
		}
	}
	closeServer(t, s)
	rc.Close()
	check()
}

// Under a manual clock the six attempts come exactly on AgentPhone's
// schedule, each re-signed with a fresh timestamp and the same X-Webhook-ID.
func TestRetryScheduleExact(t *testing.T) {
	check := noLeaks(t)
	ctx := testCtx(t)
	clock := NewManualClock(time.Unix(1772471051, 0))
	rc := newReceiver(t, clock.Now, statuses(503))
	s, err := New(Options{Clock: clock, Webhooks: []Webhook{{URL: rc.URL(), Secret: testSecret}}})
	if err != nil {
		t.Fatal(err)
	}
	ev := MessageEvent(Message{ID: "msg_1", AgentID: "agt_1", Channel: "sms", At: clock.Now()}, nil, nil)
	d, err := s.Deliver(ev, Misbehavior{})
	if err != nil {
		t.Fatal(err)
	}
	schedule := DefaultRetrySchedule()
	for i := range schedule {
		r := rc.next(ctx, t)
		if r.Verify != nil {
			t.Errorf("attempt %d does not verify at its own time: %v", i+1, r.Verify)
		}
		if i == len(schedule)-1 {
			break
		}
		if err := clock.WaitTimers(ctx, 1); err != nil {
			t.Fatal(err)
		}
		if next := d.Record().NextRetryAt; !next.Equal(clock.Now().Add(schedule[i+1])) {
			t.Errorf("after attempt %d nextRetryAt is %v, want %v", i+1, next, clock.Now().Add(schedule[i+1]))
		}
		if waited, _ := clock.AdvanceToNext(); waited != schedule[i+1] {
			t.Errorf("attempt %d came %v after attempt %d, want %v", i+2, waited, i+1, schedule[i+1])
		}
	}
	rec, err := d.Wait(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if rec.State != DeliveryFailed || len(rec.Attempts) != 6 || rec.Retries() != 5 {
		t.Fatalf("state %s after %d attempts, want failed after 6", rec.State, len(rec.Attempts))
	}
	var elapsed time.Duration
	reqs := rc.requests()
	for i, a := range rec.Attempts {
		elapsed += schedule[i]
		want := strconv.FormatInt(time.Unix(1772471051, 0).Add(elapsed).Unix(), 10)
		if a.Timestamp != want || reqs[i].Header.Get("X-Webhook-Timestamp") != want {
			t.Errorf("attempt %d timestamp %s, want %s", i+1, a.Timestamp, want)
		}
		if reqs[i].Header.Get("X-Webhook-ID") != rec.WebhookID {
			t.Errorf("attempt %d X-Webhook-ID %q, want %q", i+1, reqs[i].Header.Get("X-Webhook-ID"), rec.WebhookID)
		}
		if i > 0 && a.Signature == rec.Attempts[i-1].Signature {
			t.Errorf("attempt %d was not re-signed", i+1)
		}
	}
	closeServer(t, s)
	rc.Close()
	check()
}

// With a time scale the schedule runs in milliseconds of real time and no
// wait is shorter than the scaled one.
func TestRetryScheduleScaled(t *testing.T) {
	ctx := testCtx(t)
	rc := newReceiver(t, time.Now, statuses(503))
	defer rc.Close()
	const scale = 1e-6 // the 20 h 35 min schedule in 74 ms
	s, err := New(Options{TimeScale: scale, Webhooks: []Webhook{{URL: rc.URL(), Secret: testSecret}}})
	if err != nil {
		t.Fatal(err)
	}
	defer closeServer(t, s)
	start := time.Now()
	d, err := s.Deliver(RawEvent("agent.test", "sms", "", start, struct{}{}), Misbehavior{})
	if err != nil {
		t.Fatal(err)
	}
	rec, err := d.Wait(ctx)
	if err != nil {
		t.Fatal(err)
	}
	took := time.Since(start)
	if len(rec.Attempts) != 6 || rec.State != DeliveryFailed {
		t.Fatalf("%d attempts, state %s; want 6, failed", len(rec.Attempts), rec.State)
	}
	schedule := DefaultRetrySchedule()
	for i := 1; i < 6; i++ {
		gap := rec.Attempts[i].At.Sub(rec.Attempts[i-1].At)
		if want := scaled(schedule[i], scale); gap < want {
			t.Errorf("attempt %d came %v after the one before, less than %v", i+1, gap, want)
		}
	}
	if took > 5*time.Second {
		t.Errorf("a scaled schedule took %v", took)
	}
	t.Logf("six attempts over a scaled 20h35m took %v", took)
}

func TestRetryOutcomes(t *testing.T) {
	tests := []struct {
		name     string
		answers  []int
		attempts int
		state    DeliveryState
	}{
		{"2xx at once", []int{204}, 1, DeliverySuccess},
		{"5xx then 2xx", []int{503, 500, 502, 200}, 4, DeliverySuccess},
		{"400 is not retried", []int{400}, 1, DeliveryFailed},
		{"401 is not retried", []int{401}, 1, DeliveryFailed},
		{"429 is not retried", []int{429}, 1, DeliveryFailed},
		{"redirect is neither followed nor retried", []int{307}, 1, DeliveryFailed},
		{"5xx to the end", []int{500}, 6, DeliveryFailed},
		{"4xx after a 5xx ends it", []int{503, 404}, 2, DeliveryFailed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := testCtx(t)
			rc := newReceiver(t, time.Now, func(w http.ResponseWriter, r *http.Request, req request) int {
				w.Header().Set("Location", "/elsewhere")
				return statuses(tt.answers...)(w, r, req)
			})
			defer rc.Close()
			s, err := New(Options{TimeScale: 1e-9, Webhooks: []Webhook{{URL: rc.URL(), Secret: testSecret}}})
			if err != nil {
				t.Fatal(err)
			}
			defer closeServer(t, s)
			d, err := s.Deliver(RawEvent("agent.test", "sms", "", time.Now(), struct{}{}), Misbehavior{})
			if err != nil {
				t.Fatal(err)
			}
			rec, err := d.Wait(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if len(rec.Attempts) != tt.attempts || rec.State != tt.state || len(rc.requests()) != tt.attempts {
				t.Errorf("%d attempts (%d received), state %s; want %d, %s", len(rec.Attempts), len(rc.requests()), rec.State, tt.attempts, tt.state)
			}
		})
	}
}

func TestRetryOnTimeout(t *testing.T) {
	ctx := testCtx(t)
	rc := newReceiver(t, time.Now, func(_ http.ResponseWriter, r *http.Request, req request) int {
		if req.N == 1 {
			<-r.Context().Done() // never answers; the provider gives up
		}
		return 0
	})
	defer rc.Close()
	s, err := New(Options{TimeScale: 1e-9, Webhooks: []Webhook{{URL: rc.URL(), Secret: testSecret, Timeout: 500 * time.Millisecond}}})
	if err != nil {
		t.Fatal(err)
	}
	defer closeServer(t, s)
	d, _ := s.Deliver(RawEvent("agent.test", "sms", "", time.Now(), struct{}{}), Misbehavior{})
	rec, err := d.Wait(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(rec.Attempts) != 2 || !rec.Attempts[0].Timeout || rec.Attempts[0].StatusCode != 0 || rec.State != DeliverySuccess {
		t.Errorf("attempts %+v, state %s; want a timeout then success", rec.Attempts, rec.State)
	}
}

func TestRetryOnConnectionError(t *testing.T) {
	ctx := testCtx(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + ln.Addr().String() + "/webhooks/agentphone"
	ln.Close() // nobody listens there now
	s, err := New(Options{TimeScale: 1e-9, Webhooks: []Webhook{{URL: url, Secret: testSecret}}})
	if err != nil {
		t.Fatal(err)
	}
	defer closeServer(t, s)
	d, _ := s.Deliver(RawEvent("agent.test", "sms", "", time.Now(), struct{}{}), Misbehavior{})
	rec, err := d.Wait(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(rec.Attempts) != 6 || rec.State != DeliveryFailed {
		t.Fatalf("%d attempts, %s; want 6, failed", len(rec.Attempts), rec.State)
	}
	for _, a := range rec.Attempts {
		if a.Err == "" || a.Timeout || a.StatusCode != 0 {
			t.Errorf("attempt %d: %+v, want a connection error", a.N, a)
		}
	}
}

// Misbehaviour is what the connector must withstand: duplicates go through
// with one X-Webhook-ID, stale and wrongly signed deliveries are rejected
// (401 from the connector's verifier) and, being 4xx, not retried.
func TestMisbehavior(t *testing.T) {
	tests := []struct {
		name       string
		m          Misbehavior
		deliveries int
		state      DeliveryState
		verify     error
	}{
		{"duplicates", Misbehavior{Duplicates: 2}, 3, DeliverySuccess, nil},
		{"stale timestamp", Misbehavior{StaleBy: 10 * time.Minute}, 1, DeliveryFailed, webhook.ErrStaleTimestamp},
		{"wrong secret", Misbehavior{WrongSecret: true}, 1, DeliveryFailed, webhook.ErrBadSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := testCtx(t)
			rc := newReceiver(t, time.Now, nil)
			defer rc.Close()
			s, err := New(Options{TimeScale: 1e-9, Webhooks: []Webhook{{URL: rc.URL(), Secret: testSecret}}})
			if err != nil {
				t.Fatal(err)
			}
			defer closeServer(t, s)
			if _, err := s.Deliver(RawEvent("agent.test", "sms", "", time.Now(), struct{}{}), tt.m); err != nil {
				t.Fatal(err)
			}
			if err := s.WaitDeliveries(ctx); err != nil {
				t.Fatal(err)
			}
			recs, reqs := s.Deliveries(), rc.requests()
			if len(recs) != tt.deliveries || len(reqs) != tt.deliveries {
				t.Fatalf("%d deliveries, %d requests; want %d", len(recs), len(reqs), tt.deliveries)
			}
			for i, r := range recs {
				if r.State != tt.state || len(r.Attempts) != 1 || r.Duplicate != (i > 0) {
					t.Errorf("delivery %d: %s after %d attempts, duplicate %v", i, r.State, len(r.Attempts), r.Duplicate)
				}
				if got := reqs[i].Header.Get("X-Webhook-ID"); got != recs[0].WebhookID {
					t.Errorf("request %d X-Webhook-ID %q, want %q", i, got, recs[0].WebhookID)
				}
				if !errors.Is(reqs[i].Verify, tt.verify) {
					t.Errorf("request %d verifies with %v, want %v", i, reqs[i].Verify, tt.verify)
				}
			}
		})
	}
}
