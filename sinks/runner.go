package sinks

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"

	connector "github.com/agentphone-connector/connector"
	"github.com/agentphone-connector/connector/lease"
)

// Sink is one target for the Runner.
//
// The Runner calls Writer.Write from one goroutine at a time, with batches in
// journal order; a retry holds only the events that failed, in their order.
// To keep per-key order, Write must not report an event written when an
// earlier event of the same batch with the same Subject failed transiently
// (write a key's events in order and stop that key at its first failure).
type Sink struct {
	Name   string           // lower case, e.g. "kafka": names the consumer (sink-<name>), the metric label and the dead-letter subject
	Writer connector.Writer // owned by the Runner from a successful New on; Close closes it
	Batch  Batching         // how the sink reads the journal
	// Filter is the journal subjects the sink receives (see Route.Filter),
	// the filter of its journal consumer; nil for every event. A change
	// applies from where the sink stands: events it has passed over are
	// not delivered to it later (a replay does that).
	Filter []string
}

// Settings is what the wiring passes to the Runner.
type Settings struct {
	Logger     *slog.Logger
	Registerer prometheus.Registerer // nil registers nothing
	Now        func() time.Time      // nil for time.Now; leases time themselves by it, so it must keep time.Now's pace
	// Replica names this replica in the sinks' leases (see lease.Name); ""
	// is the host name. A replica restarted under the same name takes its
	// sinks back at once; two running replicas must not share a name.
	Replica string
}

// Runner delivers the journal to every configured sink, each through its own
// durable consumer and loop: a sink that fails retries on its own while the
// others, and ingest, carry on. It is safe for concurrent use.
//
// Replicas share the sinks through leases (see LeaseConfig): each sink is
// delivered by the one replica that holds its lease; the Runners of the
// others stand by and take the sink over when the holder stops renewing
// (closed, crashed, cut off from NATS). The holder stops writing before its
// lease can expire, and the next one starts from the sink's saved
// progress, so per-key order holds across a takeover; a Resumable writer
// skips what the previous holder wrote and did not get to save.
type Runner struct {
	js         jetstream.JetStream
	journal    string
	cfg        Config
	dlq        *deadLetters
	log        *slog.Logger
	now        func() time.Time
	replica    string
	deliveries []*delivery

	mu      sync.Mutex
	started bool
	running bool // the loops were started
	closed  bool
}

// Errors of the Runner's life cycle.
var (
	ErrStarted = errors.New("sinks: runner already started")
	ErrClosed  = errors.New("sinks: runner closed")
)

// New checks the configuration and prepares one delivery loop per sink on
// the journal stream journalStream; it does no I/O and starts nothing. On
// error the caller keeps the Writers.
func New(js jetstream.JetStream, journalStream string, cfg Config, sinks []Sink, set Settings) (*Runner, error) {
	if err := validate(cfg, sinks); err != nil {
		return nil, err
	}
	now := set.Now
	if now == nil {
		now = time.Now
	}
	r := &Runner{js: js, journal: journalStream, cfg: cfg, log: set.Logger, now: now, replica: lease.Name(set.Replica)}
	r.dlq = &deadLetters{js: js, cfg: cfg.DeadLetter, journal: journalStream, now: now}
	m, err := newMetrics(set.Registerer)
	if err != nil {
		return nil, fmt.Errorf("sinks: metrics: %w", err)
	}
	for _, s := range sinks {
		r.deliveries = append(r.deliveries, newDelivery(r, s, m))
	}
	if set.Registerer != nil {
		if err := set.Registerer.Register(newLagCollector(r)); err != nil {
			return nil, fmt.Errorf("sinks: metrics: %w", err)
		}
	}
	return r, nil
}

func validate(cfg Config, sinks []Sink) error {
	errs := []error{cfg.Validate()}
	seen := map[string]bool{}
	for _, s := range sinks {
		switch {
		case !sinkName.MatchString(s.Name):
			errs = append(errs, fmt.Errorf("sink %q: name must be lower case letters, digits, - and _", s.Name))
		case seen[s.Name]:
			errs = append(errs, fmt.Errorf("sink %q: configured twice", s.Name))
		case s.Writer == nil:
			errs = append(errs, fmt.Errorf("sink %q: no writer", s.Name))
		}
		seen[s.Name] = true
		errs = append(errs, s.Batch.Validate("sink "+s.Name+": "))
		if err := checkFilter(s.Filter); err != nil {
			errs = append(errs, fmt.Errorf("sink %q: filter: %w", s.Name, err))
		}
	}
	return errors.Join(errs...)
}

// Start creates the dead-letter stream and the lease bucket if they do not
// exist, then starts every sink's loop: it stands by or, once it holds the
// sink's lease, makes sure of the sink's consumer and delivers. ctx bounds
// the setup only; the loops run until Close. On error no loop runs.
func (r *Runner) Start(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch {
	case r.closed:
		return ErrClosed
	case r.started:
		return ErrStarted
	}
	r.started = true
	if len(r.deliveries) == 0 {
		return nil
	}
	if err := r.dlq.ensure(ctx); err != nil {
		return err
	}
	ls, err := lease.Open(ctx, r.js, lease.Config{
		Bucket: r.cfg.Lease.Bucket, Description: "Which replica delivers each sink (agentphone-connector)",
		TTL: r.cfg.Lease.TTL, Replicas: r.cfg.Lease.Replicas, Memory: r.cfg.Lease.Memory,
	}, lease.Settings{Holder: r.replica, Logger: r.log, Now: r.now})
	if err != nil {
		return fmt.Errorf("sinks: %w", err)
	}
	progress, err := openProgress(ctx, r.js, r.journal, r.cfg.Lease)
	if err != nil {
		return err
	}
	journal, err := r.js.Stream(ctx, r.journal)
	if err != nil {
		return fmt.Errorf("sinks: journal %s: %w", r.journal, err)
	}
	for _, d := range r.deliveries {
		d.start(r.js, journal, progress, ls)
	}
	r.running = true
	return nil
}

// Close stops every loop (each finishes the batch in hand and releases its
// lease, or leaves the batch to the next holder when ctx ends first) and
// then closes every Writer. It may be called without Start, and more than
// once.
func (r *Runner) Close(ctx context.Context) error {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return nil
	}
	r.closed = true
	running := r.running
	r.mu.Unlock()

	errs := make([]error, len(r.deliveries))
	var wg sync.WaitGroup
	for i, d := range r.deliveries {
		wg.Go(func() {
			err := d.close(ctx, running)
			if werr := d.w.Close(ctx); werr != nil {
				err = errors.Join(err, fmt.Errorf("sink %s: close writer: %w", d.name, werr))
			}
			errs[i] = err
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}
