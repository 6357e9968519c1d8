package journal

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

type metrics struct {
	latency   *prometheus.HistogramVec
	ok, error prometheus.Observer
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "connector_journal_append_seconds",
			Help:    "Time from publishing an event to the journal's ack (or failure), by outcome.",
			Buckets: []float64{.0002, .0005, .001, .002, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"outcome"}),
	}
	m.ok, m.error = m.latency.WithLabelValues("ok"), m.latency.WithLabelValues("error")
	if reg == nil {
		return m, nil
	}
	if err := reg.Register(m.latency); err != nil {
		return nil, err
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
