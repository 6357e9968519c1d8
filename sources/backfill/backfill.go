package backfill

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"

	connector "github.com/agentphone-connector/connector"
	"github.com/agentphone-connector/connector/dedupe"
	"github.com/agentphone-connector/connector/lease"
	"github.com/agentphone-connector/connector/sources/agentphoneapi"
)

// SourceName is the envelope source of the events backfill journals.
const SourceName = "agentphone/backfill"

// Deps are the parts backfill works with.
type Deps struct {
	API *agentphoneapi.Client
	// Journal is the dedupe guard in front of the journal: the call records
	// backfill builds are deduplicated against the calls' webhooks by their
	// natural key (agent.call_ended is one per call).
	Journal connector.Appender
	// Index, when set, tells whether the journal holds a call's record;
	// Marks whether it holds every turn of it (connector.TranscriptKey).
	// Calls with both are not read again.
	Index     Index
	Marks     *dedupe.Marks
	JetStream jetstream.JetStream
	Stream    string // the journal stream; names the checkpoint bucket
	Replicas  int    // replicas of the checkpoint bucket
}

// Index answers whether the journal holds an event of e's kind about e's
// subject; *journal.Journal implements it.
type Index interface {
	Holds(ctx context.Context, e *connector.Event) (bool, error)
}

// Settings is what the wiring passes to backfill.
type Settings struct {
	Logger     *slog.Logger
	Registerer prometheus.Registerer
	Now        func() time.Time // nil for time.Now
	// Holder names this process in the backfill lease (see lease.Name); ""
	// is a name of its own (host, process, random), which a one-off run
	// wants. A replica passes its replica name, so that it takes its
	// interrupted run back at once after a restart.
	Holder string
}

// Backfill journals what AgentPhone's REST API knows and the journal lacks.
// Run does one pass; Start runs passes every Config.Interval until Close.
// It is safe for concurrent use; concurrent runs, here or on other
// replicas, are refused with ErrBusy.
type Backfill struct {
	cfg    Config
	d      Deps
	kv     jetstream.KeyValue
	leases *lease.Bucket
	log    *slog.Logger
	now    func() time.Time
	owner  string
	runs   *prometheus.CounterVec

	loop periodic
}

// New opens the checkpoint bucket and returns a backfill ready to run.
func New(ctx context.Context, cfg Config, d Deps, set Settings) (*Backfill, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	kv, err := openCheckpoints(ctx, d.JetStream, d.Stream, d.Replicas)
	if err != nil {
		return nil, err
	}
	owner := set.Holder
	if owner == "" {
		owner = runOwner()
	}
	leases, err := lease.Open(ctx, d.JetStream, lease.Config{
		Bucket: LeaseBucket(d.Stream), Description: "which run of backfill holds its checkpoint (agentphone-connector)",
		TTL: leaseTTL, Replicas: d.Replicas,
	}, lease.Settings{Holder: owner, Logger: set.Logger, Now: set.Now})
	if err != nil {
		return nil, fmt.Errorf("backfill: %w", err)
	}
	b := &Backfill{cfg: cfg, d: d, kv: kv, leases: leases, log: set.Logger, now: set.Now, owner: owner,
		runs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "connector_backfill_runs_total",
			Help: "Backfill runs, by outcome (finished, busy: another run held the checkpoint, failed).",
		}, []string{"outcome"})}
	if b.log == nil {
		b.log = slog.New(slog.DiscardHandler)
	}
	if b.now == nil {
		b.now = time.Now
	}
	if set.Registerer != nil {
		if err := set.Registerer.Register(b.runs); err != nil {
			return nil, err
		}
	}
	return b, nil
}

// runOwner names this process in the checkpoint.
func runOwner() string {
	host, _ := os.Hostname()
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return host + "-" + strconv.Itoa(os.Getpid()) + "-" + hex.EncodeToString(b)
}

// Options are the choices of one run.
type Options struct {
	Since   time.Duration // how far back to look; a resumed run keeps its own
	Restart bool          // start over instead of resuming an interrupted run
}

// Run pages through the calls that started within since (and their
// transcripts), then through the failed webhook deliveries of that time,
// and journals what is missing. It resumes an interrupted run from its
// checkpoint. Cancelling ctx stops it after the record in hand; the
// checkpoint keeps its place. The report covers the whole run, resumed
// parts included, also when Run fails. ErrBusy means another run holds
// the checkpoint.
func (b *Backfill) Run(ctx context.Context, o Options) (Report, error) {
	cp, err := b.begin(ctx, o.Since, o.Restart)
	if err != nil {
		b.count(err)
		return Report{}, err
	}
	b.log.Info("backfill started", "since", cp.Report.Since.UTC(), "resumed", cp.Report.Resumed, "phase", cp.Phase, "offset", cp.Offset)
	err = b.walkHeld(ctx, cp)
	if err == nil {
		cp.Report.FinishedAt = b.now()
	}
	if rerr := b.release(cp); rerr != nil && !errors.Is(err, ErrBusy) {
		err = errors.Join(err, rerr)
	}
	b.count(err)
	r := cp.Report
	if err != nil {
		b.log.Warn("backfill stopped; the next run resumes it", "error", err, "phase", cp.Phase, "offset", cp.Offset)
		return r, err
	}
	b.log.Info("backfill finished", "calls_added", r.Calls.Added, "calls_present", r.Calls.Present,
		"turns_added", r.Turns.Added, "turns_present", r.Turns.Present, "failed_deliveries_added", r.Deliveries.Added)
	return r, nil
}

// walkHeld walks while the run holds its lease: a lost lease (another run
// took it after this one stopped renewing) stops the walk with ErrBusy.
func (b *Backfill) walkHeld(ctx context.Context, cp *checkpoint) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	kept := make(chan struct{})
	go func() {
		defer close(kept)
		if err := cp.lease.Keep(ctx); err != nil {
			cancel(fmt.Errorf("%w: %w", ErrBusy, err))
		}
	}()
	err := b.walk(ctx, cp)
	cancel(nil)
	<-kept
	if cause := context.Cause(ctx); errors.Is(cause, ErrBusy) {
		return cause
	}
	return err
}

func (b *Backfill) walk(ctx context.Context, cp *checkpoint) error {
	for cp.Phase != phaseDone {
		var err error
		switch cp.Phase {
		case phaseCalls:
			err = b.callsPage(ctx, cp)
		case phaseDeliveries:
			err = b.deliveriesPage(ctx, cp)
		default:
			err = fmt.Errorf("backfill checkpoint: unknown phase %q", cp.Phase)
		}
		if err != nil {
			return err
		}
	}
	return b.save(ctx, cp)
}

func (b *Backfill) count(err error) {
	switch {
	case err == nil:
		b.runs.WithLabelValues("finished").Inc()
	case errors.Is(err, ErrBusy):
		b.runs.WithLabelValues("busy").Inc()
	default:
		b.runs.WithLabelValues("failed").Inc()
	}
}

// tally counts one append's outcome.
func tally(c *Counts, res connector.Appended) {
	if res.Duplicate {
		c.Present++
	} else {
		c.Added++
	}
}
