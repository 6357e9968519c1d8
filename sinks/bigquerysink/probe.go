package bigquerysink

import (
	"context"
	"fmt"

	"cloud.google.com/go/bigquery/storage/apiv1/storagepb"
	"cloud.google.com/go/bigquery/storage/managedwriter"

	connector "github.com/agentphone-connector/connector"
)

// part is one event's rows in a probe, and its append.
type part struct {
	start, end int   // the rows
	off        int64 // where they must land
	res        *managedwriter.AppendResult
	err        error
}

// probe appends rows at their offsets one event at a time: each is
// answered ALREADY_EXISTS (the stream holds it: errRowDuplicate) until the
// first that is written, where the stream ended; probing ends there. The
// first event goes alone: when it is written, the stream ended where the
// checkpoint says (a clean takeover or restart, the usual case) and the
// rest is one ordinary append; otherwise the others are all sent before the
// first answer is awaited. An event's rows never straddle where a previous
// holder stopped, since appends never split an event (see chunks). It
// returns the retryable error that ended it.
func (a *appender) probe(ctx context.Context, rows [][]byte, ids []string, out []error) error {
	ms, err := a.stream(ctx)
	if err != nil {
		for i := range out {
			out[i] = err
		}
		return err
	}
	parts := eventParts(rows, ids, a.next)
	if err := a.probeParts(ctx, ms, rows, parts[:1], out); err != nil {
		for i := parts[0].end; i < len(rows); i++ {
			out[i] = err
		}
		return err
	}
	switch rest := parts[0].end; {
	case rest == len(rows):
		return nil
	case !a.probing:
		return a.appendChunk(ctx, rows[rest:], ids[rest:], out[rest:])
	}
	return a.probeParts(ctx, ms, rows, parts[1:], out)
}

// eventParts splits rows into one part per event, from offset off.
func eventParts(rows [][]byte, ids []string, off int64) []part {
	var parts []part
	for i := 0; i < len(rows); {
		j := i + 1
		for j < len(rows) && ids[j] == ids[i] {
			j++
		}
		parts = append(parts, part{start: i, end: j, off: off})
		off += int64(j - i)
		i = j
	}
	return parts
}

// probeParts sends every part at its offset, then sorts the answers.
func (a *appender) probeParts(ctx context.Context, ms *managedwriter.ManagedStream, rows [][]byte, parts []part, out []error) error {
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
		a.count(parts[len(parts)-1].end-p.start, "failed")
		return err
	}
	return nil
}
