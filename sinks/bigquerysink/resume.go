package bigquerysink

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

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
	s.forget()
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

func cmpErr(err error) error {
	if err == nil {
		return errors.New("no error given")
	}
	return err
}
