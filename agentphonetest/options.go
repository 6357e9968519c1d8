package agentphonetest

import (
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/url"
	"time"
)

// DefaultAPIKey is the API key a Server accepts when Options.APIKey is empty.
const DefaultAPIKey = "sk_test_agentphonetest"

// DefaultRetrySchedule returns AgentPhone's delivery schedule (SPEC.md 1.5):
// the wait before each of the six attempts, in provider time.
func DefaultRetrySchedule() []time.Duration {
	return []time.Duration{0, 5 * time.Minute, 30 * time.Minute, 2 * time.Hour, 6 * time.Hour, 12 * time.Hour}
}

// Options configures a Server. The zero value is a server for an empty
// account (Generate with no calls or messages), with no webhook routes, on
// the real clock at the provider's speed.
type Options struct {
	// Account is the account the server serves and delivers for; the server
	// takes ownership. Nil is Generate(AccountOptions{Seed: Seed}).
	Account *Account
	// Webhooks are the registered webhook routes: at most one project
	// webhook (AgentID empty) and one per agent. An agent's events go to its
	// own webhook when it has one, else to the project webhook (SPEC.md 1.4).
	Webhooks []Webhook
	APIKey   string // the Bearer token REST and SSE accept; empty is DefaultAPIKey
	Clock    Clock  // nil is SystemClock()
	// TimeScale multiplies every wait of the retry schedule: 1e-6 runs the
	// whole 20 h 35 min schedule in about 74 ms. 0 is 1. Response timeouts and
	// heartbeats are not scaled.
	TimeScale     float64
	RetrySchedule []time.Duration // wait before each attempt, provider time; nil is DefaultRetrySchedule()
	MaxInFlight   int             // webhook requests in flight at once; 0 is 32
	Heartbeat     time.Duration   // SSE heartbeat interval; 0 is 15 s (SPEC.md 4.1)
	Stream        StreamFaults
	// RateLimit is how many requests each REST or SSE endpoint takes per
	// RateWindow before answering 429 with Retry-After; 0 is no limit.
	RateLimit  int
	RateWindow time.Duration // 0 is one minute
	Quirks     Quirks
	Seed       uint64       // seeds the IDs the server makes (deliveries, calls, X-Webhook-ID)
	Logger     *slog.Logger // nil discards
}

// Webhook is one registered webhook route.
type Webhook struct {
	URL     string        // where deliveries are POSTed
	Secret  string        // the signing secret, used as its bytes ("whsec_…")
	AgentID string        // empty for the project webhook
	Timeout time.Duration // how long an attempt waits for an answer; 0 is 30 s, the provider's default
}

// StreamFaults make the transcript stream misbehave. DropAfter and
// StallAfter count events written on one connection, the connected event
// included, and apply to the first Connections connections of each call (0:
// to every connection). CRLF and MultiLineData apply to every connection.
type StreamFaults struct {
	Connections int
	// DropAfter > 0 closes the connection abruptly (no terminating chunk)
	// after that many events.
	DropAfter int
	// StallAfter > 0 stops writing after that many events, heartbeats
	// included, and holds the connection open until the client leaves or the
	// server closes.
	StallAfter int
	// CRLF ends lines with "\r\n" instead of "\n".
	CRLF bool
	// MultiLineData sends each event's JSON indented over several data: lines.
	MultiLineData bool
}

// Quirks choose between readings of points SPEC.md marks as unsure. The zero
// value is the reading the spec recommends.
type Quirks struct {
	// ReuseTimestamp sends every retry with the first attempt's
	// X-Webhook-Timestamp and signature instead of re-signing (Q1). Under a
	// TimeScale the timestamp is moved back by the provider time the scale
	// skipped, so the connector sees the age a real retry would have.
	ReuseTimestamp bool
	// OmitEventHeader leaves out X-Webhook-Event (Q3).
	OmitEventHeader bool
	// DeliveryIDIsWebhookID makes the deliveries log's id the X-Webhook-ID
	// (Q17); otherwise log IDs are their own (dlv_…).
	DeliveryIDIsWebhookID bool
	// TranscriptRows makes GET /v1/calls/{id}/transcript answer the older
	// {data: [{id, transcript, response, confidence, createdAt}]} shape (Q9).
	TranscriptRows bool
	// FastAPIErrors answers errors as {"detail": …} instead of the documented
	// {"error": {message, code, type, details}} envelope (Q12).
	FastAPIErrors bool
}

// Validate reports every problem of the options at once.
func (o Options) Validate() error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if o.TimeScale < 0 || math.IsNaN(o.TimeScale) || math.IsInf(o.TimeScale, 0) {
		add("TimeScale: %v is not a positive number", o.TimeScale)
	}
	if o.RetrySchedule != nil && len(o.RetrySchedule) == 0 {
		add("RetrySchedule: must hold at least one attempt")
	}
	for i, d := range o.RetrySchedule {
		if d < 0 {
			add("RetrySchedule[%d]: %v is negative", i, d)
		}
	}
	for _, f := range []struct {
		name string
		v    int64
	}{
		{"MaxInFlight", int64(o.MaxInFlight)}, {"Heartbeat", int64(o.Heartbeat)}, {"RateLimit", int64(o.RateLimit)},
		{"RateWindow", int64(o.RateWindow)}, {"Stream.Connections", int64(o.Stream.Connections)},
		{"Stream.DropAfter", int64(o.Stream.DropAfter)}, {"Stream.StallAfter", int64(o.Stream.StallAfter)},
	} {
		if f.v < 0 {
			add("%s: must not be negative", f.name)
		}
	}
	routes := map[string]bool{}
	for i, w := range o.Webhooks {
		if u, err := url.Parse(w.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			add("Webhooks[%d].URL: %q is not an http(s) URL", i, w.URL)
		}
		if w.Secret == "" {
			add("Webhooks[%d].Secret: must be set", i)
		}
		if w.Timeout < 0 {
			add("Webhooks[%d].Timeout: must not be negative", i)
		}
		if routes[w.AgentID] {
			add("Webhooks[%d]: a second webhook for agent %q", i, w.AgentID)
		}
		routes[w.AgentID] = true
	}
	return errors.Join(errs...)
}

// withDefaults returns o with every zero value replaced by its default.
func (o Options) withDefaults() Options {
	if o.Account == nil {
		o.Account = Generate(AccountOptions{Seed: o.Seed})
	}
	if o.APIKey == "" {
		o.APIKey = DefaultAPIKey
	}
	if o.Clock == nil {
		o.Clock = SystemClock()
	}
	if o.TimeScale == 0 {
		o.TimeScale = 1
	}
	if o.RetrySchedule == nil {
		o.RetrySchedule = DefaultRetrySchedule()
	}
	if o.MaxInFlight == 0 {
		o.MaxInFlight = 32
	}
	if o.Heartbeat == 0 {
		o.Heartbeat = 15 * time.Second
	}
	if o.RateWindow == 0 {
		o.RateWindow = time.Minute
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	o.Webhooks = append([]Webhook(nil), o.Webhooks...)
	for i := range o.Webhooks {
		if o.Webhooks[i].Timeout == 0 {
			o.Webhooks[i].Timeout = 30 * time.Second
		}
	}
	return o
}
