package statuspage

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// logSummary logs what happened since the sample taken at from: one line
// a person can read, with the same counts as attributes.
func (p *Page) logSummary(ctx context.Context, now counts, from time.Time) {
	base, _ := p.hist.base(now.at, now.at.Sub(from))
	d := now.since(base)
	var st []string
	if p.src.Sinks != nil {
		ctx, cancel := context.WithTimeout(ctx, sourceWait)
		for _, s := range p.src.Sinks(ctx) {
			st = append(st, fmt.Sprintf("%s %s, %d pending", s.Sink, s.State, s.Pending))
		}
		cancel()
	}
	p.set.Logger.Info(summaryLine(d, now.at.Sub(base.at), now, st),
		"webhooks", int64(total(d.answers)), "answers", intMap(d.answers), "rejections", intMap(d.rejections),
		"journaled", int64(d.outcomes["journaled"]), "duplicates", int64(d.outcomes["duplicate"]), "failed", int64(d.outcomes["failed"]),
		"journal_events", now.journal.Events, "journal_bytes", now.journal.Bytes, "sinks", st, "transcript_streams", int64(now.streams))
}

// summaryLine says in words what d counted since the last line, and where
// the journal and the sinks stand.
func summaryLine(d counts, period time.Duration, now counts, sinks []string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "status, last %s: %d webhooks answered (%s)", period.Round(time.Second), int64(total(d.answers)), byKey(d.answers))
	if r := total(d.rejections); r > 0 {
		fmt.Fprintf(&b, ", not journaled: %s", byKey(d.rejections))
	}
	fmt.Fprintf(&b, "; events journaled %d, duplicates %d, failed %d", int64(d.outcomes["journaled"]), int64(d.outcomes["duplicate"]), int64(d.outcomes["failed"]))
	if now.journalErr != nil {
		fmt.Fprintf(&b, "; journal unreadable: %v", now.journalErr)
	} else if now.journal.Stream != "" {
		fmt.Fprintf(&b, "; journal %s holds %d events, %s", now.journal.Stream, now.journal.Events, humanBytes(now.journal.Bytes))
	}
	if len(sinks) > 0 {
		fmt.Fprintf(&b, "; sinks: %s", strings.Join(sinks, "; "))
	}
	if now.transcript {
		fmt.Fprintf(&b, "; transcript streams %d", int64(now.streams))
	}
	return b.String()
}

// byKey is "200 5, 401 2", or "none".
func byKey(m map[string]float64) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		if m[k] != 0 {
			parts = append(parts, fmt.Sprintf("%s %d", k, int64(m[k])))
		}
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}

func intMap(m map[string]float64) map[string]int64 {
	out := make(map[string]int64, len(m))
	for k, v := range m {
		if v != 0 {
			out[k] = int64(v)
		}
	}
	return out
}
