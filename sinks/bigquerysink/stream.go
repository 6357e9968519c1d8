package bigquerysink

import (
	"context"
	"fmt"
	"log/slog"
	"sync"

	"cloud.google.com/go/bigquery/storage/managedwriter"
)

// appender writes the rows of one table through one write stream at a time.
// Only one goroutine uses an appender at once (Write runs one per table).
//
// In committed mode every append names the offset it expects to land at:
//
//	append at next ─▶ ok ─────────────▶ next += n
//	               ─▶ ALREADY_EXISTS ─▶ the same rows were written by an earlier try: next += n
//	               ─▶ OUT_OF_RANGE ───▶ new stream, append once more there
//	               ─▶ row errors ─────▶ those rows are rejected for good; append the rest at next
//	               ─▶ other answer ───▶ nothing written: new stream at the next Write
//	               ─▶ no answer ──────▶ in doubt: the next Write first sends the very
//	                                    same rows at the very same offset (resolve)
//
// An offset is only ever sent again with the very same rows, so
// ALREADY_EXISTS proves the rows are there, and an append in doubt is
// settled without a copy even when it lands long after (managedwriter keeps
// retrying it in the background).
type appender struct {
	t         *table
	parent    string // projects/<p>/datasets/<d>/tables/<t>
	desc      *writerSchema
	mw        *managedwriter.Client
	committed bool
	ctx       context.Context // owns the stream connections; cancelled by Sink.Close
	wg        *sync.WaitGroup // the sink's: stream openings in flight
	log       *slog.Logger
	m         *metrics

	ms      *managedwriter.ManagedStream // nil until opened, and after abandon
	next    int64                        // committed: the offset of the next row
	opening chan opened                  // an opening in flight, or nil
	doubt   *doubt                       // committed: an append of unknown outcome, or nil
	resume  string                       // committed: the stream to open again (a checkpoint's), "" for a new one
	probing bool                         // committed: the stream may hold rows beyond next (see probe)
}

// doubt is an append sent without an answer: its rows may be in the stream.
type doubt struct {
	rows [][]byte
	ids  []string // the event of each row
	off  int64
}

type opened struct {
	ms      *managedwriter.ManagedStream
	resumed bool // the stream named by resume, not a new one
	err     error
}

// stream returns the open stream, opening one if needed. The opening runs
// on the sink's context so that the stream outlives this Write; if ctx ends
// first the opening goes on and the next call picks it up.
func (a *appender) stream(ctx context.Context) (*managedwriter.ManagedStream, error) {
	if a.ms != nil {
		return a.ms, nil
	}
	if a.opening == nil {
		ch := make(chan opened, 1)
		a.opening = ch
		a.wg.Add(1)
		name := a.resume
		go func() {
			defer a.wg.Done()
			ms, err := a.open(name)
			ch <- opened{ms, name != "", err}
		}()
	}
	select {
	case o := <-a.opening:
		a.opening = nil
		if o.err != nil {
			return nil, fmt.Errorf("open %s stream: %w", a.t.Name, o.err)
		}
		a.ms = o.ms
		if !o.resumed {
			a.next = 0
		}
		return a.ms, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (a *appender) open(name string) (*managedwriter.ManagedStream, error) {
	if name != "" {
		return a.mw.NewManagedStream(a.ctx, managedwriter.WithStreamName(name),
			managedwriter.WithSchemaDescriptor(a.desc.desc), managedwriter.EnableWriteRetries(true))
	}
	typ := managedwriter.DefaultStream
	if a.committed {
		typ = managedwriter.CommittedStream
	}
	return a.mw.NewManagedStream(a.ctx,
		managedwriter.WithDestinationTable(a.parent),
		managedwriter.WithType(typ),
		managedwriter.WithSchemaDescriptor(a.desc.desc),
		managedwriter.EnableWriteRetries(true),
	)
}

// abandon drops the current stream: its rows stay, no more are sent to it.
// The stream is closed in the background: during an outage managedwriter
// holds it until its reconnection gives up, which Sink.Close forces.
func (a *appender) abandon(reason string) {
	if a.ms == nil {
		return
	}
	a.log.Warn("bigquery write stream abandoned", "table", a.t.Name, "stream", a.ms.StreamName(), "reason", reason)
	a.drop()
	a.m.rotations.WithLabelValues(a.t.Name).Inc()
}

// drop closes the current stream in the background and forgets it; the
// next append opens a new one (or resume's, when the caller sets it). The
// stream is not finalized: a next holder may resume it.
func (a *appender) drop() {
	if ms := a.ms; ms != nil {
		a.wg.Go(func() { ms.Close() })
	}
	a.ms, a.doubt, a.next, a.resume, a.probing = nil, nil, 0, "", false
}

// close closes the stream, and any whose opening finished meanwhile; the
// sink's context must be cancelled and its goroutines done.
func (a *appender) close() {
	if a.doubt != nil {
		a.log.Warn("bigquery append left in doubt at close; the journal delivers its events again and the views drop a second copy",
			"table", a.t.Name, "rows", len(a.doubt.rows))
	}
	if a.ms != nil {
		a.ms.Close()
		a.ms = nil
	}
	if a.opening != nil {
		if o := <-a.opening; o.ms != nil {
			o.ms.Close()
		}
		a.opening = nil
	}
}
