package simulate

import (
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/agentphone-connector/connector/agentphonetest"
)

// DefaultURL is the connector's webhook endpoint when it runs with its
// defaults on this machine.
const DefaultURL = "http://127.0.0.1:8080/webhooks/agentphone"

// DefaultTimeScale shrinks AgentPhone's retry schedule (5 min, 30 min, 2 h,
// 6 h, 12 h) to 30 ms, 180 ms, 0.72 s, 2.16 s and 4.32 s: a delivery the
// connector keeps answering 503 has used all six attempts after 7.4 s.
const DefaultTimeScale = 1e-4

// DefaultAPIKey is the key the served REST and SSE endpoints accept when
// Options.APIKey is empty.
const DefaultAPIKey = "sk_test_simulate"

// Options says what a simulation sends and how.
type Options struct {
	URL      string // the connector's webhook URL; empty is DefaultURL
	Secret   string // the webhook secret the connector holds; required
	Calls    int    // calls placed during the day, each ending in agent.call_ended
	Messages int    // inbound messages during the day
	Live     int    // calls played live during the run, turn by turn (streamable when serving)
	// Rate is how many webhooks start per second; 0 sends as fast as the
	// connector takes them.
	Rate        float64
	Duplicates  float64   // fraction of webhooks delivered a second time, with the same X-Webhook-ID
	Stale       float64   // fraction signed with a timestamp ten minutes old (the connector must answer 401)
	WrongSecret float64   // fraction signed with a wrong secret (the connector must answer 401)
	OutOfOrder  int       // shuffle the webhooks within windows of this many; 0 keeps their order
	Seed        uint64    // the same seed, day and counts send the same webhooks
	Day         time.Time // the day the traffic happens (its UTC date); zero is yesterday on Clock
	// TimeScale multiplies the provider's retry delays; 0 is
	// DefaultTimeScale.
	TimeScale    float64
	Timeout      time.Duration // how long an attempt waits for the connector's answer; 0 is 10 s
	TurnInterval time.Duration // between the turns of a live call; 0 is 500 ms
	// Serve, when set, is the address where the AgentPhone REST API and
	// transcript stream of the simulated account are served (e.g.
	// "127.0.0.1:8081"), for the connector's transcript and backfill sources.
	Serve  string
	APIKey string               // the key the served endpoints accept; empty is DefaultAPIKey
	Clock  agentphonetest.Clock // paces the webhooks and live turns; nil is the system clock
	// Progress, when positive, is how often Run writes a line on how far
	// it has got; 0 writes none.
	Progress time.Duration
}

// Validate reports every problem of the options at once.
func (o Options) Validate() error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if o.Secret == "" {
		add("secret: required (the connector's AGENTPHONE_WEBHOOK_SECRET)")
	}
	if o.URL != "" {
		if u, err := url.Parse(o.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			add("url: %q is not an http(s) URL", o.URL)
		}
	}
	for _, c := range []struct {
		name string
		n    int
	}{{"calls", o.Calls}, {"messages", o.Messages}, {"live", o.Live}, {"out-of-order", o.OutOfOrder}} {
		if c.n < 0 {
			add("%s: must not be negative", c.name)
		}
	}
	for _, f := range []struct {
		name string
		v    float64
	}{{"duplicates", o.Duplicates}, {"stale", o.Stale}, {"wrong-secret", o.WrongSecret}} {
		if !(f.v >= 0 && f.v <= 1) {
			add("%s: %v is not a fraction between 0 and 1", f.name, f.v)
		}
	}
	if !(o.Rate >= 0) {
		add("rate: must not be negative")
	}
	if !(o.TimeScale >= 0) {
		add("time-scale: must not be negative")
	}
	if o.Timeout < 0 || o.TurnInterval < 0 || o.Progress < 0 {
		add("timeout, turn interval and progress must not be negative")
	}
	return errors.Join(errs...)
}

func (o Options) withDefaults() Options {
	if o.URL == "" {
		o.URL = DefaultURL
	}
	if o.TimeScale == 0 {
		o.TimeScale = DefaultTimeScale
	}
	if o.Timeout == 0 {
		o.Timeout = 10 * time.Second
	}
	if o.TurnInterval == 0 {
		o.TurnInterval = 500 * time.Millisecond
	}
	if o.APIKey == "" {
		o.APIKey = DefaultAPIKey
	}
	if o.Clock == nil {
		o.Clock = agentphonetest.SystemClock()
	}
	if o.Day.IsZero() {
		o.Day = o.Clock.Now().UTC().AddDate(0, 0, -1)
	}
	return o
}
