package bigquerysink

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"cloud.google.com/go/bigquery/storage/managedwriter"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	connector "github.com/agentphone-connector/connector"
	"github.com/agentphone-connector/connector/sinks"
)

// ErrClosed reports a Write after Close.
var ErrClosed = errors.New("bigquerysink: closed")

// ErrHeldBack reports an event that was written but is reported failed,
// because an earlier event with the same Subject in its batch failed
// transiently: a retry writes nothing again (the sink remembers it) and
// the journal's per-key order is kept.
var ErrHeldBack = errors.New("bigquerysink: held back behind an earlier event of the same key")

// ErrRowTooLarge reports an event whose row does not fit in one append
// request; it is returned Permanent.
var ErrRowTooLarge = errors.New("bigquerysink: row larger than an append request may be")

// maxAppendBytes is the most row data one append request carries; BigQuery
// refuses requests over 10 MB, and the request has more than rows.
const maxAppendBytes = 9 << 20

// maxRemembered bounds how many partly written events the sink remembers.
const maxRemembered = 100_000

// Name is the sink's name: its consumer, metric label and dead-letter subject.
const Name = "bigquery"

// Sink writes events to BigQuery through the Storage Write API: one row per
// event in the events table, and typed rows in the calls, call_turns,
// messages and reactions tables. It implements connector.Writer.
//
// Write calls are serialized. A Sink must be closed with Close.
type Sink struct {
	tables []*table
	apps   []*appender
	mw     *managedwriter.Client
	conn   *grpc.ClientConn // our own plaintext connection to a local endpoint, or nil

	ctx    context.Context // owns the write streams
	cancel context.CancelFunc
	wg     sync.WaitGroup // stream openings in flight

	mu     sync.Mutex // serializes Write and Close
	closed bool
	// done remembers, for events whose last Write failed, the tables
	// (bit i: tables[i]) that already hold all their rows, so a retry does
	// not write those again.
	done map[string]uint32
	// dupes remembers events whose rows an append in doubt turned out to
	// have written (ALREADY_EXISTS): reported as already written.
	dupes map[string]bool

	prep prepared // rows encoded ahead of their Write
}

var _ sinks.Resumable = (*Sink)(nil)

// New returns a Sink for cfg. When cfg.ManageSchema is set it first creates
// the dataset, tables and views that are missing and adds new columns
// (EnsureSchema); write streams are opened at the first Write. ctx bounds
// this set-up only.
func New(ctx context.Context, cfg Config, set Settings) (*Sink, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if !cfg.Enabled() {
		return nil, errors.New("bigquerysink: CONNECTOR_BIGQUERY_PROJECT is not set")
	}
	set = set.withDefaults()
	tables, err := buildTables()
	if err != nil {
		return nil, err
	}
	if cfg.ManageSchema {
		if err := EnsureSchema(ctx, cfg, set); err != nil {
			return nil, err
		}
	}
	// The write client keeps reconnecting while BigQuery is unreachable;
	// only cancelling its context stops that, so the sink owns one.
	sctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	mw, conn, err := newWriteClient(sctx, cfg)
	if err != nil {
		cancel()
		return nil, err
	}
	s := &Sink{tables: tables, mw: mw, conn: conn, done: map[string]uint32{}, dupes: map[string]bool{}, ctx: sctx, cancel: cancel,
		prep: prepared{m: map[*connector.Event]*encoded{}}}
	m := newMetrics(set.Registerer)
	for _, t := range tables {
		ws, err := newWriterSchema(t)
		if err != nil {
			s.Close(ctx)
			return nil, err
		}
		s.apps = append(s.apps, &appender{
			t: t, parent: managedwriter.TableParentFromParts(cfg.Project, cfg.Dataset, t.Name),
			desc: ws, mw: mw, committed: cfg.Stream == StreamCommitted,
			ctx: s.ctx, wg: &s.wg, log: set.Logger, m: m,
		})
	}
	return s, nil
}

// Write appends the rows of every event of batch and returns nil only when
// all of them are durable in BigQuery. Otherwise it returns a
// connector.WriteErrors lined up with batch: nil for an event written,
// connector.Permanent for one BigQuery rejects for good (a row error, a row
// too large, data that does not decode into its kind), and a plain error
// for one to retry (an outage, an append of unknown outcome, a schema that
// does not match yet). Cancelling ctx abandons the wait; appends in flight
// may still land. In committed mode the next Write settles them first (the
// same rows at the same offset), so the retry adds no copy; on the default
// stream it may, and the views remove it.
func (s *Sink) Write(ctx context.Context, batch []*connector.Event) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	blocked := s.resolve(ctx)
	errs := make(connector.WriteErrors, len(batch))
	reqs := s.encode(batch, errs)
	results := make([][]error, len(s.apps))
	var wg sync.WaitGroup
	for i, a := range s.apps {
		switch {
		case len(reqs[i].rows) == 0:
		case blocked[i] != nil:
			results[i] = make([]error, len(reqs[i].rows))
			for j := range results[i] {
				results[i][j] = blocked[i]
			}
		default:
			wg.Go(func() { results[i] = a.append(ctx, reqs[i].rows, reqs[i].ids) })
		}
	}
	wg.Wait()
	return s.settle(batch, errs, reqs, results)
}

// resolve settles the appends left in doubt by earlier Writes, so that the
// events they wrote are known to be in their tables before this batch is
// encoded. It returns, per table, the error that keeps an append in doubt.
func (s *Sink) resolve(ctx context.Context) []error {
	blocked := make([]error, len(s.apps))
	settled := make([][]string, len(s.apps))
	dup := make([]bool, len(s.apps))
	var wg sync.WaitGroup
	for i, a := range s.apps {
		if a.doubt != nil {
			wg.Go(func() { settled[i], dup[i], blocked[i] = a.resolve(ctx) })
		}
	}
	wg.Wait()
	for i, ids := range settled {
		for _, id := range ids {
			s.remember(id, 1<<i)
			if dup[i] {
				s.dupes[id] = true
			}
		}
	}
	return blocked
}

// remember records that the event's rows are in the tables of mask.
func (s *Sink) remember(id string, mask uint32) {
	if _, ok := s.done[id]; !ok && len(s.done) >= maxRemembered {
		clear(s.done)
	}
	s.done[id] |= mask
}

// tableRows is what one Write appends to one table: serialized rows and,
// for each, the index of its event in the batch.
type tableRows struct {
	rows  [][]byte
	owner []int
	ids   []string
}

// encode gathers the serialized rows of every event (prepared, or
// encoded now), leaving out the tables that hold them already. An event
// whose rows cannot be made fails for good.
func (s *Sink) encode(batch []*connector.Event, errs connector.WriteErrors) []tableRows {
	reqs := make([]tableRows, len(s.tables))
	for i, e := range batch {
		enc := s.take(e)
		if enc.err != nil {
			errs[i] = enc.err
			continue
		}
		mask := s.done[e.ID]
		for ti, rows := range enc.rows {
			if mask&(1<<ti) != 0 {
				continue
			}
			for _, r := range rows {
				reqs[ti].rows = append(reqs[ti].rows, r)
				reqs[ti].owner = append(reqs[ti].owner, i)
				reqs[ti].ids = append(reqs[ti].ids, e.ID)
			}
		}
	}
	return reqs
}

// settle folds the row outcomes into event outcomes (a permanent failure
// wins over a retryable one) and remembers what partly written events hold.
func (s *Sink) settle(batch []*connector.Event, errs connector.WriteErrors, reqs []tableRows, results [][]error) error {
	failed := make([]uint32, len(batch)) // tables where an event has a row not written
	wrote, dup := make([]bool, len(batch)), make([]bool, len(batch))
	for ti, r := range reqs {
		for j, err := range results[ti] {
			i := r.owner[j]
			if err == nil {
				wrote[i] = true
				continue
			}
			if errors.Is(err, errRowDuplicate) {
				dup[i] = true
				continue
			}
			failed[i] |= 1 << ti
			if errs[i] == nil || connector.IsPermanent(err) && !connector.IsPermanent(errs[i]) {
				errs[i] = err
			}
		}
	}
	holdBack(batch, errs)
	any := false
	for i, e := range batch {
		if errs[i] == nil && !wrote[i] && (dup[i] || s.dupes[e.ID]) {
			errs[i] = connector.ErrAlreadyWritten // every row it has was there already
		}
		if errs[i] == nil || connector.IsPermanent(errs[i]) || errors.Is(errs[i], connector.ErrAlreadyWritten) {
			delete(s.done, e.ID)
			delete(s.dupes, e.ID)
			any = any || errs[i] != nil
			continue
		}
		any = true
		var hold uint32
		for ti := range s.tables {
			if failed[i]&(1<<ti) == 0 {
				hold |= 1 << ti
			}
		}
		s.remember(e.ID, hold)
	}
	if !any {
		return nil
	}
	return errs
}

// holdBack reports failed every event written after an event of the same
// Subject that failed transiently, as the delivery machinery requires for
// per-key order.
func holdBack(batch []*connector.Event, errs connector.WriteErrors) {
	held := map[string]bool{}
	for i, e := range batch {
		switch {
		case e.Subject == "":
		case errs[i] != nil && !connector.IsPermanent(errs[i]):
			held[e.Subject] = true
		case errs[i] == nil && held[e.Subject]:
			errs[i] = fmt.Errorf("%w %q", ErrHeldBack, e.Subject)
		}
	}
}

// Close closes the write streams and the clients and waits for every
// goroutine the sink started, or returns ctx's error when ctx ends first
// (the rest goes on in the background). Streams are not finalized: the
// next holder of the sink resumes them from its checkpoint. Close is
// idempotent.
func (s *Sink) Close(ctx context.Context) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.mu.Unlock()
	done := make(chan error, 1)
	go func() { done <- s.shutdown() }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return fmt.Errorf("close bigquery sink: %w", ctx.Err())
	}
}

// shutdown ends the streams' connections and closes the clients.
func (s *Sink) shutdown() error {
	s.cancel()
	s.wg.Wait()
	s.mu.Lock()
	for _, a := range s.apps {
		a.close()
	}
	s.mu.Unlock()
	err := s.mw.Close()
	if s.conn != nil { // the client closes it too: closing twice is no error here
		if cerr := s.conn.Close(); status.Code(cerr) != codes.Canceled {
			err = errors.Join(err, cerr)
		}
	}
	if err != nil {
		return fmt.Errorf("close bigquery sink: %w", err)
	}
	return nil
}
