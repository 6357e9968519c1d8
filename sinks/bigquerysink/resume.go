package bigquerysink

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"cloud.google.com/go/bigquery/storage/apiv1/storagepb"
	"cloud.google.com/go/bigquery/storage/managedwriter"

	connector "github.com/agentphone-connector/connector"
	"github.com/agentphone-connector/connector/sinks"
)

// errRowDuplicate is the outcome of a row the stream held already at its
// offset (ALREADY_EXISTS): it counts as written.
var errRowDuplicate = errors.New("bigquerysink: row already at its offset")

// position is where one table's rows go: a committed write stream and the
// offset of the next row. A checkpoint holds one per table.
type position struct {
	Stream string `json:"stream"`
	Next   int64  `json:"next"`
}

// Checkpoint returns, per table, the committed write stream and the offset
// after the rows of every event written so far; nil on the default stream,
// which has no offsets.
func (s *Sink) Checkpoint() ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]position{}
	for _, a := range s.apps {
		if !a.committed {
			return nil, nil
		}
		switch {
		case a.ms != nil:
			out[a.t.Name] = position{Stream: a.ms.StreamName(), Next: a.next}
		case a.resume != "":
			out[a.t.Name] = position{Stream: a.resume, Next: a.next}
		}
	}
	return json.Marshal(out)
}

// Resume starts a term from a checkpoint: each table goes on with the
// checkpoint's write stream at its offset, and its first appends probe
// what the stream holds beyond it (rows appended by the last holder after
// the checkpoint are answered ALREADY_EXISTS and not stored again).
// Without a checkpoint, or after a replay, each table gets a new stream,
// opened here so that the first checkpoint already names it. The default
// stream has nothing to resume.
func (s *Sink) Resume(ctx context.Context, from sinks.Resume) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	clear(s.done)
	clear(s.dupes)
	saved := map[string]position{}
	if from.State != nil && !from.Replayed {
		if err := json.Unmarshal(from.State, &saved); err != nil {
			return fmt.Errorf("bigquery checkpoint: %w", err)
		}
	}
	for _, a := range s.apps {
		if !a.committed {
			continue
		}
		p, ok := saved[a.t.Name]
		a.drop()
		if ok && p.Stream != "" {
			a.resume, a.next, a.probing = p.Stream, p.Next, true
			continue
		}
		if _, err := a.stream(ctx); err != nil {
			return err
		}
	}
	return nil
}

// probe appends rows at their offsets one event at a time, all sent
// before the first answer is awaited: each is answered ALREADY_EXISTS
// (the stream holds it: errRowDuplicate) until the first that is written,
// where the stream ended; probing ends there. An event's rows never
// straddle where a previous holder stopped, since appends never split an
// event (see chunks). It returns the retryable error that ended it.
func (a *appender) probe(ctx context.Context, rows [][]byte, ids []string, out []error) error {
	ms, err := a.stream(ctx)
	if err != nil {
		for i := range out {
			out[i] = err
		}
		return err
	}
	type part struct {
		start, end int
		off        int64
		res        *managedwriter.AppendResult
		err        error
	}
	var parts []part
	for i, off := 0, a.next; i < len(rows); {
		j := i + 1
		for j < len(rows) && ids[j] == ids[i] {
			j++
		}
		parts = append(parts, part{start: i, end: j, off: off})
		off += int64(j - i)
		i = j
	}
	for k := range parts {
		p := &parts[k]
		p.res, p.err = ms.AppendRows(ctx, rows[p.start:p.end], managedwriter.WithOffset(p.off))
	}
	for k, p := range parts {
		err := p.err
		var resp *storagepb.AppendRowsResponse
		if err == nil {
			resp, err = p.res.FullResponse(ctx)
		}
		o := classify(resp, err, true)
		a.m.appends.WithLabelValues(a.t.Name, outcomeNames[o]).Inc()
		n := p.end - p.start
		switch o {
		case written:
			a.probing = false
			a.next = p.off + int64(n)
			a.count(n, "written")
			continue
		case duplicate:
			a.next = p.off + int64(n)
			a.count(n, "duplicate")
			for i := p.start; i < p.end; i++ {
				out[i] = errRowDuplicate
			}
			continue
		case rowErrors: // those rows fail for good: their event is dead-lettered
			for i := p.start; i < p.end; i++ {
				out[i] = connector.Permanent(fmt.Errorf("bigquery rejected the %s row: %v", a.t.Name, resp.GetRowErrors()))
			}
			a.count(n, "rejected")
			continue
		}
		err = fmt.Errorf("bigquery probe of %s at %d (%s): %w", a.t.Name, p.off, outcomeNames[o], cmpErr(err))
		for _, q := range parts[k:] {
			for i := q.start; i < q.end; i++ {
				out[i] = err
			}
		}
		a.count(len(rows)-p.start, "failed")
		return err
	}
	return nil
}

func cmpErr(err error) error {
	if err == nil {
		return errors.New("no error given")
	}
	return err
}
