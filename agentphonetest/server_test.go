package agentphonetest

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/agentphone-connector/connector/sources/webhook"
)

func TestCloseWithoutListen(t *testing.T) {
	check := noLeaks(t)
	s, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	closeServer(t, s)
	closeServer(t, s) // idempotent
	if _, err := s.Deliver(Event{}, Misbehavior{}); !errors.Is(err, ErrNoWebhook) {
		t.Errorf("deliver without a route: %v", err)
	}
	if _, err := s.StartCall(Call{}); !errors.Is(err, ErrClosed) {
		t.Errorf("start call after close: %v", err)
	}
	if err := s.Listen(""); !errors.Is(err, ErrClosed) {
		t.Errorf("listen after close: %v", err)
	}
	check()
}

func TestListenThenClose(t *testing.T) {
	check := noLeaks(t)
	s, err := NewServer(Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(s.URL(), "http://127.0.0.1:") {
		t.Errorf("URL %q", s.URL())
	}
	if err := s.Listen(""); !errors.Is(err, ErrListening) {
		t.Errorf("second listen: %v", err)
	}
	closeServer(t, s)
	check()
}

// Close ends live streams and deliveries waiting for their next attempt, and
// leaves no goroutine behind.
func TestCloseEndsStreamsAndRetries(t *testing.T) {
	check := noLeaks(t)
	ctx := testCtx(t)
	clock := NewManualClock(time.Unix(1772471051, 0))
	rc := newReceiver(t, clock.Now, statuses(503))
	s, err := NewServer(Options{Clock: clock, Webhooks: []Webhook{{URL: rc.URL(), Secret: testSecret}}})
	if err != nil {
		t.Fatal(err)
	}
	call, err := s.StartCall(Call{})
	if err != nil {
		t.Fatal(err)
	}
	_, sr := openStream(ctx, t, s, call.ID)
	sr.expect(t, "connected")
	d, err := s.Deliver(RawEvent("agent.test", "sms", "", clock.Now(), struct{}{}), Misbehavior{})
	if err != nil {
		t.Fatal(err)
	}
	rc.next(ctx, t)
	if err := clock.WaitTimers(ctx, 2); err != nil { // the heartbeat and the retry
		t.Fatal(err)
	}
	closeServer(t, s)
	if _, err := sr.next(); err == nil {
		t.Error("the stream is still open after Close")
	}
	select {
	case <-d.Done():
	default:
		t.Error("the delivery is not done after Close")
	}
	if rec := d.Record(); rec.State != DeliveryPending || len(rec.Attempts) != 1 {
		t.Errorf("after close: %s with %d attempts, want pending with 1", rec.State, len(rec.Attempts))
	}
	if _, err := s.Deliver(RawEvent("agent.test", "sms", "", clock.Now(), struct{}{}), Misbehavior{}); !errors.Is(err, ErrClosed) {
		t.Errorf("deliver after close: %v", err)
	}
	rc.Close()
	check()
}

// Handler serves on a server of the caller's; Close still ends its streams.
func TestHandlerMountedElsewhere(t *testing.T) {
	check := noLeaks(t)
	ctx := testCtx(t)
	s, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	mounted := httptest.NewServer(s.Handler())
	call, err := s.StartCall(Call{})
	if err != nil {
		t.Fatal(err)
	}
	_, sr := openStreamAt(ctx, t, mounted.URL, s.APIKey(), call.ID)
	sr.expect(t, "connected")
	closeServer(t, s)
	if m, err := sr.next(); err != io.EOF {
		t.Errorf("after Close: %+v, %v; want the stream ended", m, err)
	}
	mounted.Close()
	check()
}

func TestOptionsValidate(t *testing.T) {
	bad := Options{
		TimeScale:     -1,
		RetrySchedule: []time.Duration{},
		RateLimit:     -1,
		Webhooks:      []Webhook{{URL: "ftp://x", Secret: ""}, {URL: "http://a/b", Secret: "s"}},
	}
	err := bad.Validate()
	for _, want := range []string{"TimeScale", "RetrySchedule", "RateLimit", "Webhooks[0].URL", "Webhooks[0].Secret", "Webhooks[1]: a second webhook"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v does not mention %s", err, want)
		}
	}
	if _, err := New(bad); err == nil {
		t.Error("New accepted invalid options")
	}
	if err := (Options{}).Validate(); err != nil {
		t.Errorf("zero options: %v", err)
	}
}

// An agent's events go to its own webhook when it has one, else to the
// project's (SPEC.md 1.4), each signed with its route's secret.
func TestWebhookRouting(t *testing.T) {
	ctx := testCtx(t)
	project, agent := newReceiver(t, time.Now, nil), newReceiver(t, time.Now, nil)
	defer project.Close()
	defer agent.Close()
	s, err := New(Options{Webhooks: []Webhook{
		{URL: project.URL(), Secret: testSecret},
		{URL: agent.URL(), Secret: testSecret, AgentID: "agt_own"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer closeServer(t, s)
	for _, agentID := range []string{"agt_own", "agt_other", ""} {
		if _, err := s.Deliver(RawEvent("agent.test", "sms", agentID, time.Now(), struct{}{}), Misbehavior{}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.WaitDeliveries(ctx); err != nil {
		t.Fatal(err)
	}
	if n, m := len(project.requests()), len(agent.requests()); n != 2 || m != 1 {
		t.Errorf("project got %d, agent webhook %d; want 2 and 1", n, m)
	}
	only, err := New(Options{Webhooks: []Webhook{{URL: agent.URL(), Secret: testSecret, AgentID: "agt_own"}}})
	if err != nil {
		t.Fatal(err)
	}
	defer closeServer(t, only)
	if _, err := only.Deliver(RawEvent("agent.test", "sms", "agt_other", time.Now(), struct{}{}), Misbehavior{}); !errors.Is(err, ErrNoWebhook) {
		t.Errorf("no project webhook: %v", err)
	}
}

// With Quirks.ReuseTimestamp a retry carries the first attempt's timestamp:
// an hour later (in provider time, under a time scale) the connector sees it
// as stale.
func TestReuseTimestampQuirk(t *testing.T) {
	ctx := testCtx(t)
	rc := newReceiver(t, time.Now, statuses(503, 0))
	defer rc.Close()
	s, err := New(Options{TimeScale: 1e-9, RetrySchedule: []time.Duration{0, time.Hour},
		Webhooks: []Webhook{{URL: rc.URL(), Secret: testSecret}},
		Quirks:   Quirks{ReuseTimestamp: true, OmitEventHeader: true}})
	if err != nil {
		t.Fatal(err)
	}
	defer closeServer(t, s)
	d, _ := s.Deliver(RawEvent("agent.test", "sms", "", time.Now(), struct{}{}), Misbehavior{})
	rec, err := d.Wait(ctx)
	if err != nil {
		t.Fatal(err)
	}
	reqs := rc.requests()
	if len(reqs) != 2 || rec.State != DeliveryFailed {
		t.Fatalf("%d requests, %s; want 2, failed (the retry rejected as stale)", len(reqs), rec.State)
	}
	t0, _ := strconv.ParseInt(rec.Attempts[0].Timestamp, 10, 64)
	t1, _ := strconv.ParseInt(rec.Attempts[1].Timestamp, 10, 64)
	if d := t0 - t1; d < 3598 || d > 3600 {
		t.Errorf("retry timestamp %d s before the first, want an hour", d)
	}
	if !errors.Is(reqs[1].Verify, webhook.ErrStaleTimestamp) || rec.Attempts[1].StatusCode != http.StatusUnauthorized {
		t.Errorf("retry verified as %v, answered %d", reqs[1].Verify, rec.Attempts[1].StatusCode)
	}
	if reqs[0].Header.Get("X-Webhook-Event") != "" {
		t.Error("X-Webhook-Event sent although omitted")
	}
}

func TestOutOfOrder(t *testing.T) {
	events := Generate(AccountOptions{Seed: 1, Calls: 20, Messages: 20}).Events
	mixed := OutOfOrder(events, 5, 1)
	if len(mixed) != len(events) {
		t.Fatalf("%d events, want %d", len(mixed), len(events))
	}
	moved := 0
	for i := range events {
		if mixed[i].WebhookID != events[i].WebhookID {
			moved++
		}
		w := i / 5 * 5
		found := false
		for _, e := range events[w:min(w+5, len(events))] {
			found = found || e.WebhookID == mixed[i].WebhookID
		}
		if !found {
			t.Errorf("event %d left its window", i)
		}
	}
	if moved == 0 {
		t.Error("nothing moved")
	}
	if again := OutOfOrder(events, 5, 1); again[0].WebhookID != mixed[0].WebhookID || again[7].WebhookID != mixed[7].WebhookID {
		t.Error("the same seed gave another order")
	}
}

func TestManualClock(t *testing.T) {
	ctx := testCtx(t)
	c := NewManualClock(time.Unix(0, 0))
	a, b := c.NewTimer(2*time.Second), c.NewTimer(time.Second)
	if c.Timers() != 2 {
		t.Fatalf("%d timers", c.Timers())
	}
	if d, _ := c.AdvanceToNext(); d != time.Second {
		t.Errorf("advanced %v, want 1s", d)
	}
	select {
	case <-b.C():
	case <-a.C():
		t.Fatal("the later timer fired first")
	}
	if !a.Stop() || a.Stop() || c.Timers() != 0 {
		t.Error("Stop of a pending timer")
	}
	if _, ok := c.Next(); ok {
		t.Error("a timer pending after stop")
	}
	done := make(chan error)
	go func() { done <- c.WaitTimers(ctx, 1) }()
	c.NewTimer(time.Minute)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	select {
	case <-c.NewTimer(0).C():
	default:
		t.Error("a zero timer did not fire at once")
	}
}
