package statuspage

import (
	"maps"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// The metrics the page reads, registered by the parts that count.
const (
	metricAnswers    = "connector_webhook_requests_total"   // route, code
	metricRejections = "connector_webhook_rejections_total" // route, reason
	metricEvents     = "connector_events_total"             // source, type, status, outcome
	metricStreams    = "connector_transcript_streams"       // gauge
)

// counts is what the page and the summary count, at one moment.
type counts struct {
	at         time.Time
	answers    map[string]float64 // webhook answers by status code
	rejections map[string]float64 // webhook rejections by reason
	outcomes   map[string]float64 // events offered to the journal by outcome: journaled, duplicate, failed
	streams    float64            // transcript streams followed now
	transcript bool               // the transcript source runs here
	journal    Journal            // the stream; zero when it could not be read
	journalErr error
}

// since returns c minus base: what happened between the two moments.
func (c counts) since(base counts) counts {
	d := c
	d.answers, d.rejections, d.outcomes = minus(c.answers, base.answers), minus(c.rejections, base.rejections), minus(c.outcomes, base.outcomes)
	d.journal.LastSeq = c.journal.LastSeq - min(base.journal.LastSeq, c.journal.LastSeq)
	return d
}

func minus(a, b map[string]float64) map[string]float64 {
	out := maps.Clone(a)
	for k, v := range b {
		out[k] -= v
	}
	return out
}

// total adds up every value of m.
func total(m map[string]float64) float64 {
	var n float64
	for _, v := range m {
		n += v
	}
	return n
}

// gather reads the counters from g; a metric nobody registered, or that
// has counted nothing yet, is zero.
func gather(g prometheus.Gatherer, at time.Time) (counts, error) {
	c := counts{at: at, answers: map[string]float64{}, rejections: map[string]float64{}, outcomes: map[string]float64{}}
	if g == nil {
		return c, nil
	}
	fams, err := g.Gather()
	for _, f := range fams {
		switch f.GetName() {
		case metricAnswers:
			sumBy(f, "code", c.answers)
		case metricRejections:
			sumBy(f, "reason", c.rejections)
		case metricEvents:
			sumBy(f, "outcome", c.outcomes)
		case metricStreams:
			c.transcript = true
			for _, m := range f.GetMetric() {
				c.streams += m.GetGauge().GetValue()
			}
		}
	}
	return c, err
}

// sumBy adds each series of f into into[its value of label].
func sumBy(f *dto.MetricFamily, label string, into map[string]float64) {
	for _, m := range f.GetMetric() {
		for _, l := range m.GetLabel() {
			if l.GetName() == label {
				into[l.GetValue()] += m.GetCounter().GetValue()
			}
		}
	}
}
