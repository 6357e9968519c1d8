package webhook

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the webhook source's Prometheus metrics. Create them once per
// registry with NewMetrics.
type Metrics struct {
	requests   *prometheus.CounterVec
	rejections *prometheus.CounterVec
}

// NewMetrics creates the metrics and registers them with reg (if not nil).
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	m := &Metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "connector_webhook_requests_total",
			Help: "Webhook requests answered, by route and status code.",
		}, []string{"route", "code"}),
		rejections: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "connector_webhook_rejections_total",
			Help: "Webhook requests not journaled, by route and reason.",
		}, []string{"route", "reason"}),
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.requests, m.rejections} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// answered counts one answer: a rejection by its route and reason, or a
// delivery taken in.
func (m *Metrics) answered(rep reply) {
	m.requests.WithLabelValues(rep.route, strconv.Itoa(rep.code)).Inc()
	if rep.reason != "" {
		m.rejections.WithLabelValues(rep.route, rep.reason).Inc()
	}
}
