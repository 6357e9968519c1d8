// Package statuspage is the admin listener's page at /: a small HTML page
// a person can keep open, refreshing itself every few seconds, that shows
// what the connector has taken in and handed on. It also logs the same
// counts as one line at info level once a minute.
//
// Nothing is counted twice for it: the page reads the metrics the parts
// register (webhook answers and rejections, events offered to the journal,
// transcript streams), the journal stream's state, the sinks' status and
// backfill's checkpoint, through Sources. It samples the counters every
// Settings.Sample so that it can show the last minutes beside the totals
// since start. The page needs no JavaScript and loads nothing else: its
// Content-Security-Policy forbids both.
package statuspage

import (
	"context"
	"html/template"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/agentphone-connector/connector/sinks"
	"github.com/agentphone-connector/connector/sources/backfill"
)

// Journal is the journal stream's state, as Sources.Journal reads it.
type Journal struct {
	Stream  string
	Events  uint64 // stored now
	Bytes   uint64 // stored now
	LastSeq uint64 // the latest event's sequence: every event journaled so far
}

// Sources are where the page reads what it shows. A nil func leaves its
// section saying the part does not run here.
type Sources struct {
	Metrics  prometheus.Gatherer                                      // the connector's registry
	Journal  func(ctx context.Context) (Journal, error)               // the stream's state
	Sinks    func(ctx context.Context) []sinks.Status                 // sinks.Runner.Status
	Backfill func(ctx context.Context) (backfill.Status, bool, error) // backfill.LastRun
}

// Settings is what the wiring passes in; zero values are the defaults.
type Settings struct {
	Logger  *slog.Logger     // nil logs nothing
	Now     func() time.Time // nil is time.Now
	Sample  time.Duration    // how often the counters are sampled; 10 s
	Window  time.Duration    // the last minutes the page counts beside the totals; 5 min
	Summary time.Duration    // how often the summary line is logged; 1 min
	Refresh time.Duration    // how often the page reloads itself; 5 s
}

func (s Settings) withDefaults() Settings {
	if s.Logger == nil {
		s.Logger = slog.New(slog.DiscardHandler)
	}
	if s.Now == nil {
		s.Now = time.Now
	}
	for _, d := range []struct {
		v   *time.Duration
		def time.Duration
	}{{&s.Sample, 10 * time.Second}, {&s.Window, 5 * time.Minute}, {&s.Summary, time.Minute}, {&s.Refresh, 5 * time.Second}} {
		if *d.v <= 0 {
			*d.v = d.def
		}
	}
	return s
}

// sourceWait bounds each read of a source, so that a page is served and a
// sample taken even while the journal does not answer.
const sourceWait = 2 * time.Second

// Page serves the status page and logs the summary line. Start it, then
// Close it; ServeHTTP works before Start too, without the last minutes.
type Page struct {
	src     Sources
	set     Settings
	tmpl    *template.Template
	started time.Time
	hist    history
	cancel  context.CancelFunc
	wg      sync.WaitGroup
}

var _ http.Handler = (*Page)(nil)

// New returns a page reading src.
func New(src Sources, set Settings) *Page {
	set = set.withDefaults()
	return &Page{src: src, set: set, tmpl: parsePage(set.Now), started: set.Now(), hist: history{window: set.Window + set.Sample}}
}

// Start takes the first sample, the base of every count until the window
// has passed, then samples and logs the summary line until Close.
func (p *Page) Start(ctx context.Context) {
	p.hist.add(p.read(ctx))
	ctx, p.cancel = context.WithCancel(context.WithoutCancel(ctx))
	p.wg.Go(func() { p.run(ctx) })
}

// Close stops the sampling; it waits for a sample in progress, or ctx.
func (p *Page) Close(ctx context.Context) error {
	if p.cancel == nil {
		return nil
	}
	p.cancel()
	done := make(chan struct{})
	go func() { p.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (p *Page) run(ctx context.Context) {
	t := time.NewTicker(p.set.Sample)
	defer t.Stop()
	lastSummary := p.set.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		now := p.read(ctx)
		p.hist.add(now)
		if now.at.Sub(lastSummary) >= p.set.Summary {
			p.logSummary(ctx, now, lastSummary)
			lastSummary = now.at
		}
	}
}

// read samples the counters and the journal.
func (p *Page) read(ctx context.Context) counts {
	c, err := gather(p.src.Metrics, p.set.Now())
	if err != nil {
		p.set.Logger.Debug("status page: metrics", "error", err)
	}
	if p.src.Journal != nil {
		ctx, cancel := context.WithTimeout(ctx, sourceWait)
		defer cancel()
		c.journal, c.journalErr = p.src.Journal(ctx)
	}
	return c
}
