package transcript

import "github.com/prometheus/client_golang/prometheus"

// metrics are the transcript source's; turns themselves are counted by the
// dedupe guard (connector_events_total, source agentphone/transcript).
type metrics struct {
	streams    prometheus.Gauge
	discovered *prometheus.CounterVec // via, outcome
	connects   *prometheus.CounterVec // outcome
	stops      *prometheus.CounterVec // reason
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		streams: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "connector_transcript_streams",
			Help: "Calls whose transcript stream this replica follows now.",
		}),
		discovered: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "connector_transcript_discovered_total",
			Help: "Live calls found, by how (journal: a voice message; poll: the calls list) and what came of it (followed, following, claimed_elsewhere, done, at_capacity, failed).",
		}, []string{"via", "outcome"}),
		connects: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "connector_transcript_connections_total",
			Help: "Transcript stream connections, by how they ended (ended, dropped, stalled, rate_limited, not_found, unauthorized, error, append_failed, closed, claim_lost).",
		}, []string{"outcome"}),
		stops: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "connector_transcript_stops_total",
			Help: "Calls no longer followed, by reason (ended, not_found, unauthorized, gave_up, claim_lost, closed).",
		}, []string{"reason"}),
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.streams, m.discovered, m.connects, m.stops} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}
