package statuspage

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/agentphone-connector/connector/sinks"
	"github.com/agentphone-connector/connector/sources/backfill"
)

// metrics are counters under the names the connector's parts register.
type metrics struct {
	reg                         *prometheus.Registry
	answers, rejections, events *prometheus.CounterVec
	streams                     prometheus.Gauge
}

func newMetrics(t *testing.T) *metrics {
	m := &metrics{reg: prometheus.NewRegistry(),
		answers:    prometheus.NewCounterVec(prometheus.CounterOpts{Name: metricAnswers}, []string{"route", "code"}),
		rejections: prometheus.NewCounterVec(prometheus.CounterOpts{Name: metricRejections}, []string{"route", "reason"}),
		events:     prometheus.NewCounterVec(prometheus.CounterOpts{Name: metricEvents}, []string{"source", "type", "status", "outcome"}),
		streams:    prometheus.NewGauge(prometheus.GaugeOpts{Name: metricStreams}),
	}
	for _, c := range []prometheus.Collector{m.answers, m.rejections, m.events, m.streams} {
		if err := m.reg.Register(c); err != nil {
			t.Fatal(err)
		}
	}
	return m
}

// take counts n webhooks answered code for two routes' worth, with reason
// when not journaled, and their events' outcome.
func (m *metrics) take(n int, code, reason, outcome string) {
	for i := range n {
		route := []string{"project", "sales"}[i%2]
		m.answers.WithLabelValues(route, code).Inc()
		if reason != "" {
			m.rejections.WithLabelValues(route, reason).Inc()
		}
		if outcome != "" {
			m.events.WithLabelValues("agentphone/webhook/"+route, "ai.agentphone.agent.message", "ok", outcome).Inc()
		}
	}
}

// clock is a time a test moves.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// cell returns the text of the element with id (and class, when given) in
// the page, "" when it is not there.
func cell(page, id, class string) string {
	re := `id="` + regexp.QuoteMeta(id) + `"[^>]*>([^<]*)<`
	if class != "" {
		re = `<tr id="` + regexp.QuoteMeta(id) + `">(?:.|\n)*?class="[^"]*\b` + class + `\b[^"]*">([^<]*)<`
	}
	m := regexp.MustCompile(re).FindStringSubmatch(page)
	if m == nil {
		return ""
	}
	return strings.TrimSpace(m[1])
}

func render(t *testing.T, p *Page) (string, http.Header) {
	t.Helper()
	rec := httptest.NewRecorder()
	p.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("GET / answered %d: %s", rec.Code, rec.Body.String())
	}
	return rec.Body.String(), rec.Header()
}

// The page counts the last minutes apart from the totals since start, and
// shows the journal, each sink and the last backfill as the sources say.
func TestPageShowsTheWindowAndTheTotals(t *testing.T) {
	m := newMetrics(t)
	clk := &clock{now: time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)}
	journal := Journal{Stream: "AGENTPHONE", Events: 10, Bytes: 3 << 20, LastSeq: 10}
	finished := clk.now.Add(-time.Hour)
	p := New(Sources{
		Metrics: m.reg,
		Journal: func(context.Context) (Journal, error) { return journal, nil },
		Sinks: func(context.Context) []sinks.Status {
			return []sinks.Status{{Sink: "kafka", State: sinks.StateRetrying, Role: sinks.RoleHolder, Holder: "pod-a", Pending: 7, OldestPendingSeconds: 42, LastError: "broker down"}}
		},
		Backfill: func(context.Context) (backfill.Status, bool, error) {
			return backfill.Status{Phase: "done", Report: backfill.Report{StartedAt: finished.Add(-time.Minute), FinishedAt: finished, Calls: backfill.Counts{Found: 4, Added: 3, Present: 1}}}, true, nil
		},
	}, Settings{Now: clk.Now, Window: 5 * time.Minute})

	m.take(6, "200", "", "journaled")
	p.hist.add(p.read(t.Context())) // the first sample: 6 answered before it
	clk.add(4 * time.Minute)
	p.hist.add(p.read(t.Context()))
	clk.add(2 * time.Minute) // the window reaches back to the first sample, not the second
	m.take(3, "200", "", "duplicate")
	m.take(2, "401", "bad_signature", "")
	journal.Events, journal.LastSeq = 130, 130
	page, header := render(t, p)

	for _, c := range []struct{ id, class, want string }{
		{"window", "", "6m0s"}, // from the newest sample at least 5 minutes old
		{"answer-200", "window", "3"}, {"answer-200", "total", "9"},
		{"answer-401", "window", "2"}, {"answer-401", "total", "2"},
		{"rejection-bad_signature", "total", "2"},
		{"events-duplicate", "window", "3"}, {"events-journaled", "window", "0"}, {"events-journaled", "total", "6"},
		{"journal-events", "", "130"}, {"journal-bytes", "", "3.0 MiB"},
		{"journal-rate", "", "0.33"}, // 120 events in 360 s
		{"sink-kafka", "state", "retrying"}, {"sink-kafka", "holder", "pod-a"}, {"sink-kafka", "pending", "7"},
		{"sink-kafka", "oldest", "42s"}, {"sink-kafka", "error", "broker down"},
		{"backfill-state", "", "finished"}, {"backfill-calls", "added", "3"}, {"backfill-calls", "present", "1"},
		{"transcript-streams", "", "0"},
	} {
		if got := cell(page, c.id, c.class); got != c.want {
			t.Errorf("%s %s shows %q, want %q", c.id, c.class, got, c.want)
		}
	}
	if csp := header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") || strings.Contains(page, "<script") {
		t.Errorf("the page may run script or load assets: CSP %q", csp)
	}
	if !strings.Contains(page, `<meta http-equiv="refresh" content="5">`) {
		t.Error("the page does not refresh itself")
	}
}

// A source that fails is shown failing; the page is still served.
func TestPageShowsWhatItCannotRead(t *testing.T) {
	m := newMetrics(t)
	m.streams.Set(3)
	p := New(Sources{
		Metrics: m.reg,
		Journal: func(context.Context) (Journal, error) {
			return Journal{Stream: "AGENTPHONE"}, errors.New("nats: timeout")
		},
		Backfill: func(context.Context) (backfill.Status, bool, error) { return backfill.Status{}, false, nil },
	}, Settings{})
	page, _ := render(t, p)
	for _, c := range []struct{ id, want string }{
		{"journal-error", "cannot read the journal: nats: timeout"},
		{"journal-rate", "-"},
		{"transcript-streams", "3"},
		{"backfill-never", "never run (connector backfill, or CONNECTOR_BACKFILL_INTERVAL)"},
	} {
		if got := cell(page, c.id, ""); got != c.want {
			t.Errorf("%s shows %q, want %q", c.id, got, c.want)
		}
	}
	if !strings.Contains(page, "sinks do not run here") {
		t.Error("no word on the sinks")
	}
	page, _ = render(t, New(Sources{Metrics: prometheus.NewRegistry()}, Settings{}))
	if got := cell(page, "transcript-off", ""); got != "off (AGENTPHONE_TRANSCRIPTS)" {
		t.Errorf("without the transcript source: %q", got)
	}
}

// lines is a log destination a test can wait on.
type lines struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	changed chan struct{}
}

func (l *lines) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf.Write(p)
	close(l.changed)
	l.changed = make(chan struct{})
	return len(p), nil
}

func (l *lines) wait(t *testing.T, want string) string {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		l.mu.Lock()
		text, changed := l.buf.String(), l.changed
		l.mu.Unlock()
		for _, line := range strings.Split(text, "\n") {
			if strings.Contains(line, want) {
				return line
			}
		}
		select {
		case <-changed:
		case <-timeout:
			t.Fatalf("no log line with %q:\n%s", want, text)
		}
	}
}

// The summary line says in words what the page counts, with the same
// counts as attributes.
func TestSummaryLine(t *testing.T) {
	m := newMetrics(t)
	logs := &lines{changed: make(chan struct{})}
	clk := &clock{now: time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)}
	p := New(Sources{
		Metrics: m.reg,
		Journal: func(context.Context) (Journal, error) {
			return Journal{Stream: "AGENTPHONE", Events: 5, Bytes: 2048}, nil
		},
		Sinks: func(context.Context) []sinks.Status {
			return []sinks.Status{{Sink: "nats", State: sinks.StateDelivering, Pending: 2}}
		},
	}, Settings{Logger: slog.New(slog.NewTextHandler(logs, nil)), Now: clk.Now})
	m.take(2, "200", "", "journaled") // before the last minute
	start := clk.Now()
	p.hist.add(p.read(t.Context()))
	m.take(4, "200", "", "journaled")
	m.take(1, "503", "journal_unavailable", "failed")
	clk.add(time.Minute)
	now := p.read(t.Context())
	p.hist.add(now)
	p.logSummary(t.Context(), now, start)
	line := logs.wait(t, "status, last 1m0s: 5 webhooks answered")
	for _, want := range []string{"level=INFO", "(200 4, 503 1), not journaled: journal_unavailable 1; events journaled 4, duplicates 0, failed 1",
		"journal AGENTPHONE holds 5 events, 2.0 KiB", "sinks: nats delivering, 2 pending", "webhooks=5", "journaled=4"} {
		if !strings.Contains(line, want) {
			t.Errorf("the summary lacks %q:\n%s", want, line)
		}
	}
}

// Started, the page logs its summary every Summary interval until Close.
func TestSummaryEveryInterval(t *testing.T) {
	logs := &lines{changed: make(chan struct{})}
	p := New(Sources{Metrics: newMetrics(t).reg},
		Settings{Logger: slog.New(slog.NewTextHandler(logs, nil)), Sample: time.Millisecond, Summary: 3 * time.Millisecond})
	p.Start(t.Context())
	logs.wait(t, "status, last")
	if err := p.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
}
