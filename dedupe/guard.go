// Package dedupe makes sure each event ID is journaled once within the dedupe
// window, across retries, restarts and replicas.
//
// The authority is the journal itself: every event is appended with
// Nats-Msg-Id = event ID and the stream remembers IDs for the whole window
// (72 h by default), in NATS, rebuilt from the stored messages on restart and
// shared by every replica. That gives the reserve → append → commit contract
// atomically: the ID becomes final in the same step that stores the event, and
// an append that fails records nothing, so the provider's retry goes through.
//
// Guard adds what a single process can do cheaply in front of that:
//
//	Append(e) ─▶ recently committed here? ──yes──▶ Duplicate (no round trip)
//	              │ no
//	              ▼
//	           same ID in flight here? ──yes──▶ wait for it: committed → Duplicate,
//	              │ no (reserve)                 released → try again
//	              ▼
//	           journal append ──ok──▶ commit: remember ID, wake waiters
//	              └──error──▶ release: forget the reservation, wake waiters
package dedupe

import (
	"context"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	connector "github.com/agentphone-connector/connector"
)

// Config is what users set for the in-process part of deduplication.
type Config struct {
	CacheSize int `env:"CONNECTOR_DEDUPE_CACHE_SIZE, default=100000" help:"event IDs remembered in process to answer repeats without a journal round trip; 0 turns the cache off"`
}

// Validate reports every problem of the configuration.
func (c Config) Validate() error {
	if c.CacheSize < 0 {
		return connector.Invalid("CONNECTOR_DEDUPE_CACHE_SIZE", "must not be negative")
	}
	return nil
}

// Guard is a connector.Appender that deduplicates by event ID in front of the
// journal. It is safe for concurrent use.
type Guard struct {
	next     connector.Appender
	window   time.Duration
	now      func() time.Time
	mu       sync.Mutex
	inflight map[string]*flight
	cache    *cache
	events   *prometheus.CounterVec
	series   sync.Map        // series → prometheus.Counter
	onWait   func(id string) // tests: called when a caller starts waiting on another's append
}

var _ connector.Appender = (*Guard)(nil)

type flight struct {
	done chan struct{}
	res  connector.Appended
	err  error
}

// Settings is what the wiring passes to the guard.
type Settings struct {
	Registerer prometheus.Registerer
	Now        func() time.Time // nil for time.Now
}

// New returns a Guard in front of next. window must be the journal's dedupe
// window: a remembered ID older than that is asked of the journal again.
func New(next connector.Appender, window time.Duration, cfg Config, set Settings) (*Guard, error) {
	g := &Guard{
		next: next, window: window, now: set.Now,
		inflight: make(map[string]*flight),
		cache:    newCache(cfg.CacheSize),
		events: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "connector_events_total",
			Help: "Events offered to the journal, by source, type, normalization status and outcome (journaled, duplicate, failed).",
		}, []string{"source", "type", "status", "outcome"}),
	}
	if g.now == nil {
		g.now = time.Now
	}
	if set.Registerer != nil {
		if err := set.Registerer.Register(g.events); err != nil {
			return nil, err
		}
	}
	return g, nil
}

// Append journals e unless its ID was journaled before within the window.
// A duplicate is a success with Duplicate set. Concurrent appends of one ID in
// this process make one journal append; the others wait for its outcome.
func (g *Guard) Append(ctx context.Context, e *connector.Event) (connector.Appended, error) {
	for {
		if seq, ok := g.cache.get(e.ID, g.now().Add(-g.window)); ok {
			g.count(e, "duplicate")
			return connector.Appended{Seq: seq, Duplicate: true}, nil
		}
		f, mine := g.reserve(e.ID)
		if mine {
			return g.append(ctx, e, f)
		}
		if g.onWait != nil {
			g.onWait(e.ID)
		}
		select {
		case <-f.done:
		case <-ctx.Done():
			return connector.Appended{}, ctx.Err()
		}
		if f.err == nil {
			g.count(e, "duplicate")
			return connector.Appended{Seq: f.res.Seq, Duplicate: true}, nil
		}
		// Released: the other attempt failed; try ourselves.
	}
}

// reserve returns the flight of id, and whether this caller started it.
func (g *Guard) reserve(id string) (*flight, bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if f, ok := g.inflight[id]; ok {
		return f, false
	}
	f := &flight{done: make(chan struct{})}
	g.inflight[id] = f
	return f, true
}

func (g *Guard) append(ctx context.Context, e *connector.Event, f *flight) (connector.Appended, error) {
	res, err := g.next.Append(ctx, e)
	switch {
	case err != nil:
		g.count(e, "failed")
	case res.Duplicate:
		g.count(e, "duplicate") // committed at a time unknown here: not cached, or it could outlive the window
	default:
		g.count(e, "journaled")
		g.cache.add(e.ID, res.Seq, g.now())
	}
	g.mu.Lock()
	delete(g.inflight, e.ID)
	g.mu.Unlock()
	f.res, f.err = res, err
	close(f.done)
	return res, err
}

func (g *Guard) count(e *connector.Event, outcome string) {
	k := series{e.Source, e.Type, e.Status, outcome}
	c, ok := g.series.Load(k)
	if !ok {
		c, _ = g.series.LoadOrStore(k, g.events.WithLabelValues(e.Source, e.Type, string(e.Status), outcome))
	}
	c.(prometheus.Counter).Inc()
}

// series is the label set of one events counter, cached to spare the hashing
// of four labels per event.
type series struct {
	source, typ string
	status      connector.Status
	outcome     string
}
