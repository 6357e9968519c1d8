package sinks

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Status is one sink's health, as GET /sinks shows it.
type Status struct {
	Sink           string    `json:"sink"`
	Filter         []string  `json:"filter,omitempty"` // the journal subjects the sink receives; absent: every event
	Replica        string    `json:"replica"`          // this replica's name in the leases
	Role           Role      `json:"role,omitempty"`   // holder or standby; empty before the first attempt and once stopped
	Holder         string    `json:"holder,omitempty"` // the replica that holds the sink's lease, as last seen
	State          State     `json:"state"`
	Since          time.Time `json:"since"`                     // when the state began
	LastError      string    `json:"last_error,omitempty"`      // the latest failure, kept after recovery
	FailedAttempts int       `json:"failed_attempts,omitempty"` // while retrying: attempts so far
	Delivered      uint64    `json:"delivered"`                 // events durable in the target, since start
	FailedWrites   uint64    `json:"failed_writes"`             // transient failures, per event and attempt
	DeadLettered   uint64    `json:"dead_lettered"`
	Skipped        uint64    `json:"skipped"` // of Delivered: found in the target already, not written again

	Pending              uint64  `json:"pending"`                // journal events not acknowledged by the sink
	OldestPendingSeconds float64 `json:"oldest_pending_seconds"` // age of the oldest of them
	LagError             string  `json:"lag_error,omitempty"`    // why the lag is unknown
}

// Status returns every sink's filter, role, state, counters and lag. Counters are
// this replica's; the lag comes from the journal (the same on every replica)
// and is left out (with LagError) when the journal cannot say.
func (r *Runner) Status(ctx context.Context) []Status {
	out := make([]Status, 0, len(r.deliveries))
	for _, d := range r.deliveries {
		st := d.track.snapshot()
		st.Filter = d.filter
		if lag, err := d.lag(ctx); err != nil {
			st.LagError = err.Error()
		} else {
			st.Pending, st.OldestPendingSeconds = lag.Pending, lag.OldestAge.Seconds()
		}
		out = append(out, st)
	}
	return out
}

// ServeHTTP answers with every sink's Status as JSON: {"sinks": [...]}. It
// answers 200 whatever the sinks' states: a failing sink does not make the
// connector unready (ingest still works); monitor the states instead.
func (r *Runner) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	ctx, cancel := context.WithTimeout(req.Context(), 2*time.Second)
	defer cancel()
	b, err := json.MarshalIndent(struct {
		Sinks []Status `json:"sinks"`
	}{r.Status(ctx)}, "", "  ")
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(append(b, '\n'))
}

// String is a one-line summary for logs and test failures.
func (s Status) String() string {
	out := fmt.Sprintf("%s %s (%s on %s, holder %s) since %s: delivered %d (skipped %d), failed writes %d, dead-lettered %d, pending %d (oldest %.1fs)",
		s.Sink, s.State, s.Role, s.Replica, s.Holder, s.Since.Format(time.RFC3339), s.Delivered, s.Skipped, s.FailedWrites, s.DeadLettered, s.Pending, s.OldestPendingSeconds)
	if s.Filter != nil {
		out += ", filter " + strings.Join(s.Filter, " ")
	}
	if s.LastError != "" {
		out += ", last error: " + s.LastError
	}
	if s.LagError != "" {
		out += ", lag unknown: " + s.LagError
	}
	return out
}
