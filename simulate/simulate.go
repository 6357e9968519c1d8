// Package simulate drives a running connector with a realistic day of
// AgentPhone traffic, so anyone can try the connector without an AgentPhone
// account. It plays the provider with agentphonetest: webhooks signed with
// the connector's secret, retried on AgentPhone's schedule (shrunk by a time
// scale), with optional duplicates, stale timestamps, wrong secrets and
// reordering; and, when asked, the REST API and transcript stream of the same
// account on a local port for the connector's transcript and backfill
// sources.
package simulate

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/agentphone-connector/connector/agentphonetest"
)

// Simulation is one simulated account, ready to send its day of traffic.
type Simulation struct {
	o           Options
	events      []agentphonetest.Event
	live        []agentphonetest.Call
	webhookMode map[string]bool // agents whose callers' turns are delivered as voice agent.message
	srv         *agentphonetest.Server
}

// New generates the account's day and starts its test server, listening on
// o.Serve when set. Close releases it.
func New(o Options) (*Simulation, error) {
	if err := o.Validate(); err != nil {
		return nil, fmt.Errorf("simulate options: %w", err)
	}
	o = o.withDefaults()
	acct := agentphonetest.Generate(agentphonetest.AccountOptions{
		Seed: o.Seed, Day: o.Day, Calls: o.Calls, Messages: o.Messages, Live: o.Live,
	})
	sim := &Simulation{o: o, live: acct.Live, webhookMode: map[string]bool{},
		events: agentphonetest.OutOfOrder(acct.Events, o.OutOfOrder, o.Seed)}
	for _, a := range acct.Agents {
		sim.webhookMode[a.ID] = a.VoiceMode == "webhook"
	}
	srv, err := agentphonetest.New(agentphonetest.Options{
		Account:   acct,
		Webhooks:  []agentphonetest.Webhook{{URL: o.URL, Secret: o.Secret, Timeout: o.Timeout}},
		APIKey:    o.APIKey,
		Clock:     o.Clock,
		TimeScale: o.TimeScale,
		Seed:      o.Seed,
	})
	if err != nil {
		return nil, fmt.Errorf("simulate: %w", err)
	}
	sim.srv = srv
	if o.Serve != "" {
		if err := srv.Listen(o.Serve); err != nil {
			return nil, errors.Join(fmt.Errorf("simulate serve: %w", err), srv.Close(context.Background()))
		}
	}
	return sim, nil
}

// URL returns the base URL of the served REST API and transcript stream, ""
// when not serving.
func (s *Simulation) URL() string { return s.srv.URL() }

// APIKey returns the key the served endpoints accept.
func (s *Simulation) APIKey() string { return s.srv.APIKey() }

// Deliveries returns every delivery made so far with its attempts.
func (s *Simulation) Deliveries() []agentphonetest.DeliveryRecord { return s.srv.Deliveries() }

// Close stops the server: retries still pending are abandoned.
func (s *Simulation) Close(ctx context.Context) error { return s.srv.Close(ctx) }

// Run sends the day's webhooks at the configured rate while playing the live
// calls, waits until every delivery has succeeded or failed for good, writes
// what was sent and answered to out and returns it. Cancelling ctx stops
// sending and waiting; the report then covers what happened so far, with
// ctx's error. A Simulation runs once.
func (s *Simulation) Run(ctx context.Context, out io.Writer) (Report, error) {
	o := s.o
	start := o.Clock.Now()
	fmt.Fprintf(out, "simulating %s (seed %d): %d calls, %d messages, %d live calls → %s\n",
		o.Day.Format(time.DateOnly), o.Seed, o.Calls, o.Messages, len(s.live), o.URL)
	if url := s.srv.URL(); url != "" {
		fmt.Fprintf(out, "serving AgentPhone's REST API and transcript stream on %s (%s)\n", url, keyNote(o.APIKey))
	}
	stopProgress := s.reportProgress(out, start)
	var wg sync.WaitGroup
	liveErrs := make(chan error, len(s.live))
	for _, c := range s.live {
		wg.Go(func() { liveErrs <- s.playLive(ctx, c) })
	}
	err := s.send(ctx)
	wg.Wait()
	close(liveErrs)
	for e := range liveErrs {
		if err == nil {
			err = e
		}
	}
	if err == nil {
		err = s.srv.WaitDeliveries(ctx)
	}
	stopProgress()
	rep := summarize(s.srv.Deliveries(), o.Seed, o.Clock.Now().Sub(start))
	rep.Print(out)
	return rep, err
}

// reportProgress writes a progress line to out every Options.Progress
// until the returned func is called; it returns once nothing writes.
func (s *Simulation) reportProgress(out io.Writer, start time.Time) (stop func()) {
	if s.o.Progress <= 0 {
		return func() {}
	}
	done, exited := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(exited)
		for {
			t := s.o.Clock.NewTimer(s.o.Progress)
			select {
			case <-done:
				t.Stop()
				return
			case <-t.C():
			}
			rep := summarize(s.srv.Deliveries(), s.o.Seed, s.o.Clock.Now().Sub(start))
			fmt.Fprintln(out, rep.progress(len(s.events)))
		}
	}()
	return func() { close(done); <-exited }
}

// Run generates and sends a simulated day with o, as New, Simulation.Run
// and Close do.
func Run(ctx context.Context, o Options, out io.Writer) (Report, error) {
	sim, err := New(o)
	if err != nil {
		return Report{}, err
	}
	rep, err := sim.Run(ctx, out)
	closeCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if cerr := sim.Close(closeCtx); err == nil {
		err = cerr
	}
	return rep, err
}

// send delivers the day's webhooks in order, paced at the rate, each
// misbehaving as the fractions say.
func (s *Simulation) send(ctx context.Context) error {
	o := s.o
	r := rand.New(rand.NewPCG(o.Seed, 0x5eed))
	var interval time.Duration
	if o.Rate > 0 {
		interval = time.Duration(float64(time.Second) / o.Rate)
	}
	next := o.Clock.Now()
	for _, ev := range s.events {
		if err := waitUntil(ctx, o.Clock, next); err != nil {
			return err
		}
		next = next.Add(interval)
		var m agentphonetest.Misbehavior
		if r.Float64() < o.Duplicates {
			m.Duplicates = 1
		}
		if r.Float64() < o.Stale {
			m.StaleBy = 10 * time.Minute
		}
		m.WrongSecret = r.Float64() < o.WrongSecret
		if _, err := s.srv.Deliver(ev, m); err != nil {
			return fmt.Errorf("simulate deliver: %w", err)
		}
	}
	return nil
}

// waitUntil waits for clock to reach t, or for ctx.
func waitUntil(ctx context.Context, clock agentphonetest.Clock, t time.Time) error {
	d := t.Sub(clock.Now())
	if d <= 0 {
		return ctx.Err()
	}
	timer := clock.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C():
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// keyNote says which key the served endpoints accept without printing one
// that was given: it may be a real API key, from AGENTPHONE_API_KEY.
func keyNote(key string) string {
	if key == DefaultAPIKey {
		return "Authorization: Bearer " + DefaultAPIKey
	}
	return "Authorization: Bearer with the API key given"
}
