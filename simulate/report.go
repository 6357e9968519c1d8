package simulate

import (
	"errors"
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
	// Unexpected counts the finished deliveries answered other than a
	// connector must answer them: 2xx in the end for those signed right,
	// 401 for those signed stale or with a wrong secret. Mismatches
	// describes the first few.
	Unexpected int
	Mismatches []string
}

// ErrUnexpected reports deliveries the connector did not answer as it must.
var ErrUnexpected = errors.New("simulate: deliveries answered other than expected")

// maxMismatches is how many unexpected deliveries a Report describes.
const maxMismatches = 3

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
		r.expect(d)
	}
	return r
}

// expect counts d when it finished other than a connector must answer it.
func (r *Report) expect(d agentphonetest.DeliveryRecord) {
	if d.State == agentphonetest.DeliveryPending || len(d.Attempts) == 0 {
		return
	}
	last := answer(d.Attempts[len(d.Attempts)-1])
	want := "2xx"
	ok := d.State == agentphonetest.DeliverySuccess
	if d.Misbehavior.StaleBy > 0 || d.Misbehavior.WrongSecret {
		want, ok = "401 (signed stale or with a wrong secret)", last == "401"
	}
	if ok {
		return
	}
	if want == "2xx" && last == "401" {
		want += " (is AGENTPHONE_WEBHOOK_SECRET the connector's secret?)"
	}
	r.Unexpected++
	if len(r.Mismatches) < maxMismatches {
		r.Mismatches = append(r.Mismatches, fmt.Sprintf("%s %s/%s: answered %s after %d attempt(s), want %s",
			d.WebhookID, d.Event.Name, d.Event.Channel, last, len(d.Attempts), want))
	}
}

// Check returns ErrUnexpected, with the first mismatches, when deliveries
// finished other than expected.
func (r Report) Check() error {
	if r.Unexpected == 0 {
		return nil
	}
	return fmt.Errorf("%w: %d of %d deliveries, the first: %s", ErrUnexpected, r.Unexpected, r.Deliveries, r.Mismatches[0])
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
	if r.Unexpected > 0 {
		fmt.Fprintf(w, "%d answered other than expected:\n", r.Unexpected)
		for _, m := range r.Mismatches {
			fmt.Fprintln(w, "  "+m)
		}
	}
}

// progress is one line on a run in progress.
func (r Report) progress(total int) string {
	return fmt.Sprintf("%s: %d of %d webhooks sent (and %d duplicates); deliveries: %d delivered, %d rejected, %d failed after every retry, %d waiting or retrying",
		r.Elapsed.Round(time.Second), r.Sent(), total, r.Duplicates, r.Succeeded, r.Rejected, r.Exhausted, r.Pending)
}
