package bigquerysink

import (
	"context"
	"fmt"

	"cloud.google.com/go/bigquery/storage/apiv1/storagepb"
	"cloud.google.com/go/bigquery/storage/managedwriter"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	connector "github.com/agentphone-connector/connector"
)

// outcome is what an append came to.
type outcome int

const (
	written    outcome = iota // answered ok
	duplicate                 // ALREADY_EXISTS: the same rows are at this offset
	rowErrors                 // some rows are invalid; nothing written
	outOfRange                // OUT_OF_RANGE: the offset is beyond the end; nothing written
	refused                   // any other answer: nothing written
	noStream                  // no stream could be opened: nothing sent
	unknown                   // no answer: written or not
)

var outcomeNames = [...]string{"ok", "already_exists", "row_errors", "out_of_range", "error", "error", "unknown"}

// send makes one append of rows at offset off (committed mode) and says
// what came of it.
func (a *appender) send(ctx context.Context, rows [][]byte, off int64) (*storagepb.AppendRowsResponse, outcome, error) {
	ms, err := a.stream(ctx)
	if err != nil {
		return nil, noStream, fmt.Errorf("bigquery append: %w", err)
	}
	var opts []managedwriter.AppendOption
	if a.committed {
		opts = append(opts, managedwriter.WithOffset(off))
	}
	var resp *storagepb.AppendRowsResponse
	res, err := ms.AppendRows(ctx, rows, opts...)
	if err == nil {
		resp, err = res.FullResponse(ctx)
	}
	o := classify(resp, err, a.committed)
	a.m.appends.WithLabelValues(a.t.Name, outcomeNames[o]).Inc()
	if err != nil {
		err = fmt.Errorf("bigquery append to %s: %w", a.t.Name, err)
	}
	return resp, o, err
}

func classify(resp *storagepb.AppendRowsResponse, err error, committed bool) outcome {
	code := status.Code(err)
	switch {
	case err == nil:
		return written
	case len(resp.GetRowErrors()) > 0:
		return rowErrors
	case committed && code == codes.AlreadyExists:
		return duplicate
	case committed && code == codes.OutOfRange:
		return outOfRange
	case resp != nil:
		return refused
	}
	return unknown
}

// resolve settles the append in doubt, if any, by sending the very same
// rows at the very same offset: ok or ALREADY_EXISTS both mean they are
// written, once. It returns the events whose rows that wrote, or the error
// that leaves the append in doubt still (no other row can go to the stream
// until it is settled).
func (a *appender) resolve(ctx context.Context) (ids []string, dup bool, err error) {
	d := a.doubt
	if d == nil {
		return nil, false, nil
	}
	_, o, err := a.send(ctx, d.rows, d.off)
	switch o {
	case written, duplicate:
		a.doubt, a.next = nil, d.off+int64(len(d.rows))
		a.count(len(d.rows), map[outcome]string{written: "written", duplicate: "duplicate"}[o])
		return d.ids, o == duplicate, nil
	case unknown:
		return nil, false, err
	}
	// A definite answer that wrote nothing: the first try wrote nothing either.
	a.abandon("append in doubt answered " + outcomeNames[o])
	return nil, false, nil
}

// append writes rows (serialized; ids[i] is the event of rows[i]) and
// returns their outcomes, lined up: nil when written, errRowDuplicate when
// the stream held the row already, Permanent when BigQuery rejected the
// row, any other error when it must be retried.
func (a *appender) append(ctx context.Context, rows [][]byte, ids []string) []error {
	out := make([]error, len(rows))
	for _, c := range chunks(rows, ids) {
		if c.err != nil {
			out[c.start] = c.err
			continue
		}
		appendChunk := a.appendChunk
		if a.probing {
			appendChunk = a.probe
		}
		if err := appendChunk(ctx, rows[c.start:c.end], ids[c.start:c.end], out[c.start:c.end]); err != nil {
			for i := c.end; i < len(rows); i++ { // the table is unavailable: do not wait on it again
				out[i] = err
			}
			break
		}
	}
	return out
}

// appendChunk appends one request's worth of rows, filling out. It returns
// the retryable error that ended it, if any.
func (a *appender) appendChunk(ctx context.Context, rows [][]byte, ids []string, out []error) error {
	idx := make([]int, len(rows)) // the rows still to write
	for i := range idx {
		idx[i] = i
	}
	for fresh := false; ; {
		data, dids := make([][]byte, len(idx)), make([]string, len(idx))
		for i, j := range idx {
			data[i], dids[i] = rows[j], ids[j]
		}
		off := a.next
		resp, o, err := a.send(ctx, data, off)
		switch o {
		case written:
			a.next = off + int64(len(data))
			a.count(len(data), "written")
			return nil
		case duplicate: // an earlier try of this very append landed
			a.next = off + int64(len(data))
			a.count(len(data), "duplicate")
			for _, i := range idx {
				out[i] = errRowDuplicate
			}
			return nil
		case rowErrors:
			if idx = a.reject(resp, idx, out); len(idx) == 0 {
				return nil
			}
			continue
		case outOfRange:
			a.abandon("offset out of range")
			if !fresh {
				fresh = true // a new stream starts at offset 0
				continue
			}
		case refused:
			a.abandon(err.Error())
		case unknown:
			if a.committed && a.ms != nil {
				a.doubt = &doubt{rows: data, ids: dids, off: off}
			}
		}
		for _, i := range idx {
			out[i] = err
		}
		a.count(len(idx), "failed")
		return err
	}
}

// reject marks the rows BigQuery refused as permanently failed and returns
// the others, which were not written either and go again.
func (a *appender) reject(resp *storagepb.AppendRowsResponse, idx []int, out []error) []int {
	bad := map[int]string{}
	for _, re := range resp.GetRowErrors() {
		if i := int(re.GetIndex()); i >= 0 && i < len(idx) {
			bad[i] = re.GetMessage()
		}
	}
	if len(bad) == 0 { // nothing to drop: retrying the same rows would fail the same way
		for i := range idx {
			bad[i] = "row errors without a valid index"
		}
	}
	var rest []int
	for i, j := range idx {
		if msg, ok := bad[i]; ok {
			out[j] = connector.Permanent(fmt.Errorf("bigquery rejected the %s row: %s", a.t.Name, msg))
			continue
		}
		rest = append(rest, j)
	}
	a.count(len(bad), "rejected")
	return rest
}

func (a *appender) count(n int, outcome string) {
	a.m.rows.WithLabelValues(a.t.Name, outcome).Add(float64(n))
}
