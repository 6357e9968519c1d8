package webhook

import (
	"cmp"
	"log/slog"
	"slices"
	"sync"
	"time"
)

// summary counts rejected requests by reason and by client, and logs the
// counts in one line at most once per interval, instead of a line per
// request: a rejection writes the line when the last one is an interval
// old or more (the first rejection after a quiet spell at once), and flush
// writes what is left. It keeps the counts of at most maxClients clients per
// interval; the others are counted together under "other". It is safe for
// concurrent use.
type summary struct {
	log      *slog.Logger
	interval time.Duration
	now      func() time.Time

	mu      sync.Mutex
	last    time.Time // when the last line was written
	since   time.Time // the first rejection counted since; zero when none is
	reasons map[string]int
	clients map[string]int
	limited int // answered 429 over_budget
}

const (
	summaryInterval   = 10 * time.Second
	summaryMaxClients = 256
	summaryTopClients = 10
)

func newSummary(log *slog.Logger, now func() time.Time) *summary {
	return &summary{log: log, interval: summaryInterval, now: now, reasons: map[string]int{}, clients: map[string]int{}}
}

// add counts one rejection; limited is whether it was answered 429.
func (s *summary) add(reason, client string, limited bool) {
	now := s.now()
	s.mu.Lock()
	if s.since.IsZero() {
		s.since = now
	}
	s.reasons[reason]++
	if _, ok := s.clients[client]; !ok && len(s.clients) >= summaryMaxClients {
		client = "other"
	}
	s.clients[client]++
	if limited {
		s.limited++
	}
	var line []any
	if now.Sub(s.last) >= s.interval {
		line = s.take(now)
		s.last = now
	}
	s.mu.Unlock()
	if line != nil {
		s.log.Warn("webhook requests rejected", line...)
	}
}

// flush logs what was counted since the last line, if anything.
func (s *summary) flush() {
	s.mu.Lock()
	var line []any
	if !s.since.IsZero() {
		line = s.take(s.now())
	}
	s.mu.Unlock()
	if line != nil {
		s.log.Warn("webhook requests rejected", line...)
	}
}

// take returns the attributes of the log line and starts a new interval.
func (s *summary) take(now time.Time) []any {
	total := 0
	for _, n := range s.reasons {
		total += n
	}
	type count struct {
		client string
		n      int
	}
	var top []count
	for c, n := range s.clients {
		top = append(top, count{c, n})
	}
	slices.SortFunc(top, func(a, b count) int { return cmp.Or(b.n-a.n, cmp.Compare(a.client, b.client)) })
	clients := map[string]int{}
	for _, c := range top[:min(len(top), summaryTopClients)] {
		clients[c.client] = c.n
	}
	line := []any{"total", total, "over_budget", s.limited, "seconds", int(now.Sub(s.since).Round(time.Second).Seconds()),
		"by_reason", s.reasons, "top_clients", clients, "clients", len(s.clients)}
	s.since, s.reasons, s.clients, s.limited = time.Time{}, map[string]int{}, map[string]int{}, 0
	return line
}
