package kafkasink

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/agentphone-connector/connector/sinks"
)

// Resume starts a term: it forgets what this writer knew, and reads every
// partition of the sink's topics from the checkpoint's end offsets to
// their end now; the events found there were written by the last holder
// after it saved the checkpoint, and Write skips them. Without a
// checkpoint (a new sink), or after a replay (the events are to be written
// again), it only learns where the partitions end.
func (w *Writer) Resume(ctx context.Context, from sinks.Resume) error {
	w.ledger.reset()
	if err := w.ensureTopics(ctx); err != nil {
		return err
	}
	topics := w.cfg.Topics()
	if from.State == nil || from.Replayed {
		end, _, err := w.offsets(ctx, topics)
		if err != nil {
			return err
		}
		w.ledger.mu.Lock()
		w.ledger.end = end
		w.ledger.mu.Unlock()
		return nil
	}
	var saved map[string]map[int]int64
	if err := json.Unmarshal(from.State, &saved); err != nil {
		return fmt.Errorf("kafka checkpoint: %w", err)
	}
	if saved == nil {
		saved = map[string]map[int]int64{}
	}
	return w.tail(ctx, topics, saved)
}

// Checkpoint returns, for every partition of the sink's topics, the offset
// after the last record this writer knows it wrote (or the partition's end
// when the term began).
func (w *Writer) Checkpoint() ([]byte, error) { return w.ledger.checkpoint() }
