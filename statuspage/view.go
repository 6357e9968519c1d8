package statuspage

import (
	"bytes"
	"cmp"
	"context"
	_ "embed"
	"fmt"
	"html/template"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/agentphone-connector/connector/sinks"
	"github.com/agentphone-connector/connector/sources/backfill"
)

//go:embed page.html
var pageHTML string

// view is what one rendering of the page shows.
type view struct {
	Now, Started   time.Time
	Uptime, Window string
	Refresh        int // seconds
	Journal        Journal
	JournalErr     string
	Rate           string // events journaled per second over the window
	Answers        []row  // webhook answers by status code
	Rejections     []row  // webhook rejections by reason
	Outcomes       []row  // events offered to the journal: journaled, duplicate, failed
	Sinks          []sinks.Status
	SinksOff       bool
	Transcript     bool
	Streams        int
	Backfill       backfill.Status
	BackfillRan    bool
	BackfillErr    string
	BackfillOff    bool
}

// row is one count over the window and since start.
type row struct {
	Key           string
	Window, Total int64
}

// rows lists every key of total (and window), in order of key.
func rows(window, total map[string]float64) []row {
	keys := slices.Sorted(maps.Keys(total))
	out := make([]row, 0, len(keys))
	for _, k := range keys {
		out = append(out, row{Key: k, Window: int64(window[k]), Total: int64(total[k])})
	}
	return out
}

// ServeHTTP renders the page. It answers 200 whatever the parts' states:
// the page is there to show them.
func (p *Page) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*sourceWait)
	defer cancel()
	var b bytes.Buffer
	if err := p.tmpl.Execute(&b, p.view(ctx)); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	// No script, no request for anything else: the page is one document.
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
	_, _ = w.Write(b.Bytes())
}

// parsePage parses the page's template; now is the clock "ago" counts on.
func parsePage(now func() time.Time) *template.Template {
	return template.Must(template.New("page").Funcs(template.FuncMap{
		"bytes":   humanBytes,
		"ago":     func(t time.Time) string { return ago(now(), t) },
		"seconds": func(s float64) string { return (time.Duration(s * float64(time.Second))).Round(time.Second).String() },
		"utc":     func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
	}).Parse(pageHTML))
}

// view reads every source once.
func (p *Page) view(ctx context.Context) view {
	now := p.read(ctx)
	base, ok := p.hist.base(now.at, p.set.Window)
	if !ok {
		base = counts{at: p.started}
	}
	win := now.since(base)
	v := view{
		Now: now.at, Started: p.started, Uptime: now.at.Sub(p.started).Round(time.Second).String(),
		Window: now.at.Sub(base.at).Round(time.Second).String(), Refresh: int(p.set.Refresh.Seconds()),
		Journal: now.journal, Answers: rows(win.answers, now.answers), Rejections: rows(win.rejections, now.rejections),
		Outcomes: rows(win.outcomes, now.outcomes), Transcript: now.transcript, Streams: int(now.streams),
	}
	if now.journalErr != nil {
		v.JournalErr = now.journalErr.Error()
	}
	if secs := now.at.Sub(base.at).Seconds(); secs >= 1 && base.journal.Stream != "" && now.journalErr == nil {
		v.Rate = strconv.FormatFloat(float64(win.journal.LastSeq)/secs, 'f', 2, 64)
	}
	p.readSinks(ctx, &v)
	p.readBackfill(ctx, &v)
	return v
}

func (p *Page) readSinks(ctx context.Context, v *view) {
	if p.src.Sinks == nil {
		v.SinksOff = true
		return
	}
	ctx, cancel := context.WithTimeout(ctx, sourceWait)
	defer cancel()
	v.Sinks = slices.SortedFunc(slices.Values(p.src.Sinks(ctx)), func(a, b sinks.Status) int { return cmp.Compare(a.Sink, b.Sink) })
}

func (p *Page) readBackfill(ctx context.Context, v *view) {
	if p.src.Backfill == nil {
		v.BackfillOff = true
		return
	}
	ctx, cancel := context.WithTimeout(ctx, sourceWait)
	defer cancel()
	st, ran, err := p.src.Backfill(ctx)
	v.Backfill, v.BackfillRan = st, ran
	if err != nil {
		v.BackfillErr = err.Error()
	}
}

// humanBytes is n in B, KiB, MiB or GiB.
func humanBytes(n uint64) string {
	const unit = 1024
	if n < unit {
		return strconv.FormatUint(n, 10) + " B"
	}
	div, exp := uint64(unit), 0
	for m := n / unit; m >= unit && exp < 2; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMG"[exp])
}

// ago is how long before now t was, "-" for the zero time.
func ago(now, t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return now.Sub(t).Round(time.Second).String() + " ago"
}
