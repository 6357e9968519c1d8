package bigquerysink

import (
	"fmt"

	connector "github.com/agentphone-connector/connector"
)

// chunk is a run of rows that fits in one append request, or one row that
// fits in none (err).
type chunk struct {
	start, end int
	err        error
}

// chunks splits rows into runs that fit an append request, never between
// two rows of one event (ids[i] is the event of rows[i]) unless that event
// alone does not fit: where an event's rows land is then the same whatever
// batch it comes in, which resuming a stream relies on.
func chunks(rows [][]byte, ids []string) []chunk {
	var out []chunk
	start, size := 0, 0
	for i, r := range rows {
		n := len(r) + 8
		if n > maxAppendBytes {
			if i > start {
				out = append(out, chunk{start: start, end: i})
			}
			out = append(out, chunk{start: i, end: i + 1, err: connector.Permanent(fmt.Errorf("%w: %d bytes", ErrRowTooLarge, len(r)))})
			start, size = i+1, 0
			continue
		}
		if size+n > maxAppendBytes && i > start {
			cut := i
			for cut > start && ids[cut-1] == ids[i] {
				cut--
			}
			if cut == start { // the event alone fills the request: split it
				cut = i
			}
			out = append(out, chunk{start: start, end: cut})
			start, size = cut, 0
			for _, r := range rows[cut:i] {
				size += len(r) + 8
			}
		}
		size += n
	}
	if start < len(rows) {
		out = append(out, chunk{start: start, end: len(rows)})
	}
	return out
}
