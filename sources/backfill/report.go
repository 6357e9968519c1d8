package backfill

import (
	"fmt"
	"io"
	"time"
)

// Counts says what one kind of record came to.
type Counts struct {
	Found   int `json:"found"`   // records AgentPhone reports in the range
	Added   int `json:"added"`   // journaled by this run: they were missing
	Present int `json:"present"` // in the journal already, from any source
	Skipped int `json:"skipped"` // not taken now (live or settling calls, unreadable records)
}

// Report is what a run found, added and found already there. A resumed run
// reports the totals of the run it continued. Turns are counted for the
// transcripts read: a call known to be journaled whole (its record and
// connector.TranscriptKey) is counted present and its transcript not read.
type Report struct {
	Since      time.Time `json:"since"`
	StartedAt  time.Time `json:"started_at"`
	FinishedAt time.Time `json:"finished_at,omitzero"`
	Resumed    bool      `json:"resumed"`
	Calls      Counts    `json:"calls"`      // agent.call_ended records of finished calls
	Turns      Counts    `json:"turns"`      // transcript.turn records
	Deliveries Counts    `json:"deliveries"` // failed webhook deliveries, as connector.delivery_failed records
	// Whole counts the calls (in Calls.Present) journaled whole already,
	// whose transcripts were not read: their turns are in no Turns count.
	Whole int `json:"whole,omitempty"`
	// Settling counts the calls (in Calls.Skipped) still live or ended
	// within the settle time; the rest of Calls.Skipped had no readable
	// transcript.
	Settling int `json:"settling,omitempty"`
}

// Print writes the report for people.
func (r Report) Print(w io.Writer) {
	state := "finished"
	if r.FinishedAt.IsZero() {
		state = "interrupted (run again to resume)"
	}
	resumed := ""
	if r.Resumed {
		resumed = ", resumed"
	}
	fmt.Fprintf(w, "backfill since %s: %s%s\n", r.Since.UTC().Format(time.RFC3339), state, resumed)
	fmt.Fprintf(w, "  %-11s %6s %6s %8s %8s\n", "", "found", "added", "present", "skipped")
	for _, row := range []struct {
		name string
		c    Counts
	}{{"calls", r.Calls}, {"turns", r.Turns}, {"deliveries", r.Deliveries}} {
		fmt.Fprintf(w, "  %-11s %6d %6d %8d %8d\n", row.name, row.c.Found, row.c.Added, row.c.Present, row.c.Skipped)
	}
	fmt.Fprintln(w, "  found: in AgentPhone's records of the range; added: journaled now, they were missing; present: journaled already")
	if r.Whole > 0 {
		fmt.Fprintf(w, "  turns: not read for %d call%s journaled whole already (the record and every turn)\n", r.Whole, plural(r.Whole))
	}
	if r.Calls.Skipped > 0 {
		fmt.Fprintf(w, "  skipped: %d call%s live or ended within CONNECTOR_BACKFILL_SETTLE (left to their webhook; a later run takes them), %d without a readable transcript\n",
			r.Settling, plural(r.Settling), r.Calls.Skipped-r.Settling)
	}
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
