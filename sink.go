package connector

import (
	"context"
	"errors"
	"fmt"
)

// Writer writes batches of journaled events to one target (Kafka, NATS,
// BigQuery). The per-sink delivery machinery reads the journal, calls Write,
// and acknowledges the journal only for events Write reports durable.
//
// Write returns nil only when every event of the batch is durable in the
// target. Otherwise it returns either
//   - a WriteErrors lined up with the batch (nil entries were written;
//     entries matching ErrAlreadyWritten were found in the target from an
//     earlier write and not written again: they count as written), or
//   - any other error, which applies to the whole batch.
//
// An error marked Permanent is never retried: its event goes to the dead-letter
// stream with the error as the reason. Any other error is retried with backoff,
// for the events it applies to only. Write must honour ctx and must not keep
// the batch slice after it returns.
type Writer interface {
	Write(ctx context.Context, batch []*Event) error
	// Close flushes and releases the target's client; the Writer is not used after.
	Close(ctx context.Context) error
}

// ErrAlreadyWritten marks an event of a batch that the target held
// already, from an earlier write whose outcome the writer did not know (a
// timeout, a crash, another replica): it was not written again, and it
// counts as written.
var ErrAlreadyWritten = errors.New("connector: already in the target")

// WriteErrors lines up with a batch: WriteErrors[i] is the outcome of batch[i],
// nil when it was written.
type WriteErrors []error

func (we WriteErrors) Error() string {
	n, first := 0, error(nil)
	for _, err := range we {
		if err != nil {
			if n++; first == nil {
				first = err
			}
		}
	}
	return fmt.Sprintf("%d of %d events failed, first: %v", n, len(we), first)
}

// Unwrap returns the non-nil errors, so errors.Is and errors.As see them.
func (we WriteErrors) Unwrap() []error {
	var out []error
	for _, err := range we {
		if err != nil {
			out = append(out, err)
		}
	}
	return out
}

// ErrorAt returns the outcome of event i of a batch whose Write returned err.
func ErrorAt(err error, i int) error {
	var we WriteErrors
	if errors.As(err, &we) && i < len(we) {
		return we[i]
	}
	return err
}
