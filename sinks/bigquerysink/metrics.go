package bigquerysink

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics counts per-row and per-append outcomes; per-event outcomes are
// never logged.
type metrics struct {
	rows      *prometheus.CounterVec // table, outcome: written, duplicate, rejected, failed
	appends   *prometheus.CounterVec // table, result: ok, already_exists, out_of_range, row_errors, error
	rotations *prometheus.CounterVec // table
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		rows: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "connector_bigquery_rows_total",
			Help: "Rows the BigQuery sink appended, by table and outcome (written, duplicate: already at its offset, rejected: a row error, failed: to be retried).",
		}, []string{"table", "outcome"}),
		appends: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "connector_bigquery_appends_total",
			Help: "Storage Write API append requests, by table and result.",
		}, []string{"table", "result"}),
		rotations: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "connector_bigquery_stream_rotations_total",
			Help: "Write streams abandoned after an append of unknown outcome, an offset error or a schema error; the next append opens a new one.",
		}, []string{"table"}),
	}
	if reg != nil {
		m.rows = register(reg, m.rows)
		m.appends = register(reg, m.appends)
		m.rotations = register(reg, m.rotations)
	}
	return m
}

// register registers c, or returns the collector registered before under the
// same name (a second sink on one registry shares the counters).
func register(reg prometheus.Registerer, c *prometheus.CounterVec) *prometheus.CounterVec {
	if err := reg.Register(c); err != nil {
		if are := (prometheus.AlreadyRegisteredError{}); errors.As(err, &are) {
			if prev, ok := are.ExistingCollector.(*prometheus.CounterVec); ok {
				return prev
			}
		}
	}
	return c
}
