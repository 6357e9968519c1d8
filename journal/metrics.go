package journal

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

type metrics struct {
	latency   *prometheus.HistogramVec
	ok, error prometheus.Observer
	unsettled prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "connector_journal_append_seconds",
			Help:    "Time from publishing an event to the journal's ack (or failure), by outcome.",
			Buckets: []float64{.0002, .0005, .001, .002, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"outcome"}),
		unsettled: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "connector_journal_unsettled_answers_total",
			Help: "Publishes asked again because the journal's answer was not final yet: on a cluster, the same event ID or call in process on another replica, or no stream leader.",
		}),
	}
	m.ok, m.error = m.latency.WithLabelValues("ok"), m.latency.WithLabelValues("error")
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.latency, m.unsettled} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

func (m *metrics) observe(d time.Duration, err error) {
	if err != nil {
		m.error.Observe(d.Seconds())
		return
	}
	m.ok.Observe(d.Seconds())
}
