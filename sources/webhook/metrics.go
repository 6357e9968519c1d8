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

func (m *Metrics) rejected(route string, code int, reason string) {
	m.requests.WithLabelValues(route, strconv.Itoa(code)).Inc()
	m.rejections.WithLabelValues(route, reason).Inc()
}

func (m *Metrics) accepted(route string) {
	m.requests.WithLabelValues(route, "200").Inc()
}
