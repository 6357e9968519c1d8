package sinks

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the per-sink series; every sink is one value of the label "sink".
type metrics struct {
	events   *prometheus.CounterVec   // sink, outcome
	failures *prometheus.CounterVec   // sink: events whose write attempt failed transiently
	latency  *prometheus.HistogramVec // sink: one Write call
	healthy  *prometheus.GaugeVec     // sink: 1 delivering or standing by, 0 retrying or stopped
	held     *prometheus.GaugeVec     // sink: 1 while this replica holds the lease
	changes  *prometheus.CounterVec   // sink, change: acquired, lost, released
	rewound  *prometheus.CounterVec   // sink: events read again
	skipped  *prometheus.CounterVec   // sink: events found in the target already
}

// sinkMetrics are one sink's series.
type sinkMetrics struct {
	delivered, dead, failures, skipped, rewound prometheus.Counter
	latency                                     prometheus.Observer
	held                                        prometheus.Gauge       // 1 while this replica holds the lease
	changes                                     *prometheus.CounterVec // lease changes, by change
	healthy                                     func(float64)
}

func (m *metrics) of(sink string) sinkMetrics {
	return sinkMetrics{
		delivered: m.events.WithLabelValues(sink, "delivered"),
		dead:      m.events.WithLabelValues(sink, "dead_lettered"),
		failures:  m.failures.WithLabelValues(sink),
		skipped:   m.skipped.WithLabelValues(sink),
		rewound:   m.rewound.WithLabelValues(sink),
		latency:   m.latency.WithLabelValues(sink),
		held:      m.held.WithLabelValues(sink),
		changes:   m.changes.MustCurryWith(prometheus.Labels{"sink": sink}),
		healthy:   m.healthy.WithLabelValues(sink).Set,
	}
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		events: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "connector_sink_events_total",
			Help: "Journaled events a sink finished with, by outcome: delivered (durable in the target) or dead_lettered.",
		}, []string{"sink", "outcome"}),
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "connector_sink_write_failures_total",
			Help: "Events whose write to the target failed transiently; each is retried in place, so one event may count several times.",
		}, []string{"sink"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "connector_sink_write_seconds",
			Help:    "Time of one batch write to a sink's target, failed ones included.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"sink"}),
		healthy: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "connector_sink_healthy",
			Help: "1 while a sink delivers or stands by for another replica, 0 while it retries a failing target, journal or lease, or is stopped.",
		}, []string{"sink"}),
		held: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "connector_sink_lease_held",
			Help: "1 while this replica holds the sink's lease and so delivers it, 0 while it stands by; summed over replicas, 1 at most.",
		}, []string{"sink"}),
		changes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "connector_sink_lease_changes_total",
			Help: "Changes of this replica's hold on a sink's lease: acquired, lost (taken over, or not renewed in time) and released (on shutdown).",
		}, []string{"sink", "change"}),
		rewound: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "connector_sink_rewound_events_total",
			Help: "Events the sink read from the journal again: read before (by this replica or the previous holder) and not committed when a term began (a takeover, a restart, a failed pull), or moved back to by a replay.",
		}, []string{"sink"}),
		skipped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "connector_sink_skipped_events_total",
			Help: "Events not written to the target because it held them already, from a write whose outcome was unknown (a timeout, a crash, a takeover); each counts as delivered too.",
		}, []string{"sink"}),
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.events, m.failures, m.latency, m.healthy, m.held, m.changes, m.rewound, m.skipped} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// lagCollector reports each sink's consumer lag when scraped: it asks the
// journal, so the figures are current even while a sink is stuck retrying.
type lagCollector struct {
	r       *Runner
	pending *prometheus.Desc
	age     *prometheus.Desc
}

func newLagCollector(r *Runner) *lagCollector {
	return &lagCollector{
		r: r,
		pending: prometheus.NewDesc("connector_sink_pending_events",
			"Journaled events a sink has not acknowledged yet (not delivered plus in flight).", []string{"sink"}, nil),
		age: prometheus.NewDesc("connector_sink_oldest_pending_seconds",
			"Age of the oldest journaled event a sink has not acknowledged; 0 when it is caught up.", []string{"sink"}, nil),
	}
}

// Describe and Collect make lagCollector a prometheus.Collector.
func (c *lagCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.pending; ch <- c.age }

func (c *lagCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	for _, d := range c.r.deliveries {
		lag, err := d.lag(ctx)
		if err != nil {
			continue // the sink's state shows the problem; a scrape does not fail for it
		}
		ch <- prometheus.MustNewConstMetric(c.pending, prometheus.GaugeValue, float64(lag.Pending), d.name)
		ch <- prometheus.MustNewConstMetric(c.age, prometheus.GaugeValue, lag.OldestAge.Seconds(), d.name)
	}
}
