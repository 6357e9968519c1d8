package statuspage

import (
	"sync"
	"time"
)

// history keeps the counts sampled over the last window, oldest first, so
// that the page can show what happened in the last minutes.
type history struct {
	mu      sync.Mutex
	window  time.Duration
	samples []counts
}

// add records c, forgetting samples older than the window, except the
// newest of those: it is the base of a full window.
func (h *history) add(c counts) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.samples = append(h.samples, c)
	cut := c.at.Add(-h.window)
	drop := 0
	for drop+1 < len(h.samples) && !h.samples[drop+1].at.After(cut) {
		drop++
	}
	h.samples = h.samples[drop:]
}

// base returns the newest sample taken at or before now minus d, or the
// oldest kept when none is that old: what the last d is counted from.
func (h *history) base(now time.Time, d time.Duration) (counts, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.samples) == 0 {
		return counts{}, false
	}
	b := h.samples[0]
	for _, s := range h.samples[1:] {
		if s.at.After(now.Add(-d)) {
			break
		}
		b = s
	}
	return b, true
}
