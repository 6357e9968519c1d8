package transcript

import (
	"io"
	"time"
)

// watchdog calls fire when the stream has been silent for limit: no byte,
// not even a heartbeat comment. The time the journal takes to append a turn
// does not count as silence.
type watchdog struct {
	limit time.Duration
	t     *time.Timer
}

func newWatchdog(limit time.Duration, fire func()) *watchdog {
	return &watchdog{limit: limit, t: time.AfterFunc(limit, fire)}
}

// reader returns r, rearming the watchdog whenever bytes arrive.
func (w *watchdog) reader(r io.Reader) io.Reader { return activity{r, w} }

func (w *watchdog) pause()  { w.t.Stop() }
func (w *watchdog) resume() { w.t.Reset(w.limit) }
func (w *watchdog) stop()   { w.t.Stop() }

type activity struct {
	r io.Reader
	w *watchdog
}

func (a activity) Read(p []byte) (int, error) {
	n, err := a.r.Read(p)
	if n > 0 {
		a.w.t.Reset(a.w.limit)
	}
	return n, err
}
