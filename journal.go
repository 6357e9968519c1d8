package connector

import (
	"context"
	"errors"
)

// Appended is the outcome of a successful Append.
type Appended struct {
	Seq       uint64 // the journal sequence holding the event (the first copy's, for a duplicate)
	Duplicate bool   // the event ID was journaled before, within the dedupe window; nothing was added
}

// Appender takes events into the journal. Append returns nil only once the
// journal holds the event durably (or held it already: Duplicate). On error
// nothing is recorded under the event's ID, so a retry of the same event goes
// through. Cancelling ctx abandons the wait; the append may still land, and a
// retry then reports Duplicate.
type Appender interface {
	Append(ctx context.Context, e *Event) (Appended, error)
}

// ErrUnavailable reports that the journal cannot take events now; the caller
// should ask its peer to retry later (a webhook answers 503).
var ErrUnavailable = errors.New("connector: journal unavailable")
