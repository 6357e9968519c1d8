package simulate

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"time"

	"github.com/agentphone-connector/connector/agentphonetest"
)

// Report is what a simulation sent and how the connector answered.
type Report struct {
	Seed       uint64         // the seed the traffic was made with
	Events     map[string]int // webhooks sent, by event name and channel ("agent.message/sms")
	Deliveries int            // deliveries made: one per webhook, plus the duplicates
	Duplicates int
	Attempts   int            // POSTs made, retries included
	Retries    int            // attempts after a delivery's first
	Answers    map[string]int // attempts by answer: the status code ("200", "503"), "timeout" or "no connection"
	Succeeded  int            // deliveries answered 2xx in the end
	Rejected   int            // deliveries answered with a status the provider never retries (4xx, or a redirect)
	Exhausted  int            // deliveries that failed every attempt of the schedule
	Pending    int            // deliveries still retrying when the run stopped
	Elapsed    time.Duration  // from the first webhook to the last delivery's end
}

// summarize counts the deliveries' outcomes.
func summarize(ds []agentphonetest.DeliveryRecord, seed uint64, elapsed time.Duration) Report {
	r := Report{Seed: seed, Events: map[string]int{}, Answers: map[string]int{}, Deliveries: len(ds), Elapsed: elapsed}
	for _, d := range ds {
		if d.Duplicate {
			r.Duplicates++
		} else {
			r.Events[d.Event.Name+"/"+d.Event.Channel]++
		}
		r.Attempts += len(d.Attempts)
		r.Retries += d.Retries()
		for _, a := range d.Attempts {
			r.Answers[answer(a)]++
		}
		switch last := len(d.Attempts) - 1; {
		case d.State == agentphonetest.DeliverySuccess:
			r.Succeeded++
		case d.State == agentphonetest.DeliveryPending:
			r.Pending++
		case d.Attempts[last].StatusCode >= 300 && d.Attempts[last].StatusCode < 500:
			r.Rejected++
		default:
			r.Exhausted++
		}
	}
	return r
}

func answer(a agentphonetest.Attempt) string {
	switch {
	case a.StatusCode != 0:
		return strconv.Itoa(a.StatusCode)
	case a.Timeout:
		return "timeout"
	default:
		return "no connection"
	}
}

// Sent returns the number of webhooks sent, duplicates aside.
func (r Report) Sent() int { return r.Deliveries - r.Duplicates }

// Print writes the report for people.
func (r Report) Print(w io.Writer) {
	fmt.Fprintf(w, "sent %d webhooks as %d deliveries (%d duplicates) in %s\n", r.Sent(), r.Deliveries, r.Duplicates, r.Elapsed.Round(time.Millisecond))
	for _, k := range slices.Sorted(maps.Keys(r.Events)) {
		fmt.Fprintf(w, "  %-32s %6d\n", k, r.Events[k])
	}
	fmt.Fprintf(w, "answers to %d attempts:\n", r.Attempts)
	for _, k := range slices.Sorted(maps.Keys(r.Answers)) {
		fmt.Fprintf(w, "  %-32s %6d\n", k, r.Answers[k])
	}
	fmt.Fprintf(w, "%d retries; %d delivered, %d rejected (4xx, not retried), %d failed after every retry, %d pending\n",
		r.Retries, r.Succeeded, r.Rejected, r.Exhausted, r.Pending)
}
