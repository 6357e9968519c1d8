package kafkasink

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/segmentio/kafka-go"
)

// ledger is what makes the sink exactly once without transactions: it
// knows, per partition, where the log ended after the last write whose
// outcome it knows (end), and after an unknown outcome (a timeout, a
// connection lost after sending) or when the sink is taken over, it reads
// the partitions from there to their end and collects the event IDs it
// finds (skip): those events are in Kafka already and are not sent again.
//
//	write ok ─────────▶ end[p] = last offset + 1
//	write unknown ────▶ doubt[topic]: before the next write, read each of its
//	                    partitions from end[p]; IDs found → skip; end[p] = now
//	Resume(checkpoint)▶ read every partition from the checkpoint's end[p]
//
// A checkpoint is end for every partition of the sink's topics, saved with
// the journal position it covers.
type ledger struct {
	mu    sync.Mutex // Completion runs on kafka-go's goroutines
	end   map[string]map[int]int64
	doubt map[string]bool
	skip  map[string]struct{}
}

func newLedger() *ledger {
	return &ledger{end: map[string]map[int]int64{}, doubt: map[string]bool{}, skip: map[string]struct{}{}}
}

// completed records what one partition's produce came to: kafka-go calls
// it with the messages' offsets set.
func (l *ledger) completed(msgs []kafka.Message, err error) {
	if len(msgs) == 0 {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	m := msgs[len(msgs)-1]
	if err != nil || l.doubt[m.Topic] { // a late answer to a write already in doubt changes nothing
		l.doubt[m.Topic] = true
		return
	}
	if l.end[m.Topic] == nil {
		l.end[m.Topic] = map[int]int64{}
	}
	l.end[m.Topic][m.Partition] = max(l.end[m.Topic][m.Partition], m.Offset+1)
}

// snapshot returns the ends of topic before a write.
func (l *ledger) snapshot(topic string) map[int]int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make(map[int]int64, len(l.end[topic]))
	for p, o := range l.end[topic] {
		out[p] = o
	}
	return out
}

// failed marks a topic whose write may have landed in part, and moves its
// ends back to where they were before the write (before, from snapshot):
// a partition's answer may have come in before another's failed.
func (l *ledger) failed(topic string, before map[int]int64) {
	l.mu.Lock()
	l.doubt[topic] = true
	l.end[topic] = before
	l.mu.Unlock()
}

// reset forgets everything: a new term starts.
func (l *ledger) reset() {
	l.mu.Lock()
	l.end, l.doubt, l.skip = map[string]map[int]int64{}, map[string]bool{}, map[string]struct{}{}
	l.mu.Unlock()
}

// written reports whether the event was found in Kafka already.
func (l *ledger) written(id string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	_, ok := l.skip[id]
	return ok
}

// checkpoint encodes end.
func (l *ledger) checkpoint() ([]byte, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return json.Marshal(l.end)
}

// doubtful returns the topics to read back before the next write.
func (l *ledger) doubtful() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for t := range l.doubt {
		out = append(out, t)
	}
	return out
}

// tail reads the partitions of topics from where the ledger knew them to
// end up to their end now, adds the event IDs found to skip, and moves end
// to now. from overrides the ledger's ends (a checkpoint); a partition
// neither knows is read from its start (it was made since).
func (w *Writer) tail(ctx context.Context, topics []string, from map[string]map[int]int64) error {
	if err := w.drain(ctx); err != nil {
		return err
	}
	now, start, err := w.offsets(ctx, topics)
	if err != nil {
		return err
	}
	l := w.ledger
	for topic, parts := range now {
		for p, end := range parts {
			l.mu.Lock()
			begin, ok := l.end[topic][p]
			l.mu.Unlock()
			if from != nil {
				begin, ok = from[topic][p]
			}
			if !ok {
				begin = start[topic][p]
			}
			if begin < end {
				if err := w.readIDs(ctx, topic, p, begin, end); err != nil {
					return err
				}
			}
		}
	}
	l.mu.Lock()
	for topic, parts := range now {
		l.end[topic] = parts
		delete(l.doubt, topic)
	}
	l.mu.Unlock()
	return nil
}

// drain waits, before partitions are read back, until kafka-go has an
// answer for every produce request it was given: a WriteMessages ended by
// its ctx leaves its requests running, and one landing after the read-back
// would be written twice. The producer is closed (which waits for them)
// and a new one takes its place; when ctx ends first the closing goes on,
// and the next drain waits for it.
func (w *Writer) drain(ctx context.Context) error {
	if w.closing == nil {
		if !w.cut {
			return nil
		}
		old, ch := w.kw, make(chan error, 1)
		go func() { ch <- old.Close() }()
		w.closing, w.kw, w.cut = ch, w.newProducer(), false
	}
	select {
	case <-w.closing:
		w.closing = nil
		return nil
	case <-ctx.Done():
		return fmt.Errorf("kafka: waiting for produce requests cut short: %w", ctx.Err())
	}
}

// offsets returns the first and the end offset of every partition of the
// topics that exist.
func (w *Writer) offsets(ctx context.Context, topics []string) (end, first map[string]map[int]int64, err error) {
	md, err := w.admin.Metadata(ctx, &kafka.MetadataRequest{Topics: topics})
	if err != nil {
		return nil, nil, fmt.Errorf("kafka read back: %w", err)
	}
	req := &kafka.ListOffsetsRequest{Topics: map[string][]kafka.OffsetRequest{}}
	for _, t := range md.Topics {
		if t.Error != nil {
			if errors.Is(t.Error, kafka.UnknownTopicOrPartition) {
				continue // nothing written there
			}
			return nil, nil, fmt.Errorf("kafka read back %s: %w", t.Name, t.Error)
		}
		for _, p := range t.Partitions {
			req.Topics[t.Name] = append(req.Topics[t.Name], kafka.FirstOffsetOf(p.ID), kafka.LastOffsetOf(p.ID))
		}
	}
	end, first = map[string]map[int]int64{}, map[string]map[int]int64{}
	if len(req.Topics) == 0 {
		return end, first, nil
	}
	resp, err := w.admin.ListOffsets(ctx, req)
	if err != nil {
		return nil, nil, fmt.Errorf("kafka read back: %w", err)
	}
	for topic, parts := range resp.Topics {
		end[topic], first[topic] = map[int]int64{}, map[int]int64{}
		for _, p := range parts {
			if p.Error != nil {
				return nil, nil, fmt.Errorf("kafka read back %s/%d: %w", topic, p.Partition, p.Error)
			}
			end[topic][p.Partition], first[topic][p.Partition] = p.LastOffset, p.FirstOffset
		}
	}
	return end, first, nil
}

// readIDs reads the records of one partition in [from, to) and adds the
// event ID of each to skip (ce_id, or the envelope's id in structured mode).
func (w *Writer) readIDs(ctx context.Context, topic string, partition int, from, to int64) error {
	for off := from; off < to; {
		resp, err := w.admin.Fetch(ctx, &kafka.FetchRequest{
			Topic: topic, Partition: partition, Offset: off, MinBytes: 1, MaxBytes: 8 << 20, MaxWait: w.cfg.Timeout,
		})
		if err == nil {
			err = resp.Error
		}
		if err != nil {
			return fmt.Errorf("kafka read back %s/%d at %d: %w", topic, partition, off, err)
		}
		next, err := w.collect(resp.Records, to)
		if err != nil {
			return fmt.Errorf("kafka read back %s/%d at %d: %w", topic, partition, off, err)
		}
		if next <= off {
			return fmt.Errorf("kafka read back %s/%d: no record at %d below %d", topic, partition, off, to)
		}
		off = next
	}
	return nil
}

// collect reads records below to and returns the offset after the last
// (to when none is below it: what is left are gaps).
func (w *Writer) collect(rs kafka.RecordReader, to int64) (int64, error) {
	if rs == nil {
		return to, nil
	}
	next := int64(-1)
	for {
		r, err := rs.ReadRecord()
		if errors.Is(err, io.EOF) {
			if next < 0 {
				return to, nil
			}
			return next, nil
		}
		if err != nil {
			return next, err
		}
		if r.Offset >= to {
			continue
		}
		next = max(next, r.Offset+1)
		id, err := w.recordID(r)
		if err != nil {
			return next, err
		}
		if id != "" {
			w.ledger.mu.Lock()
			w.ledger.skip[id] = struct{}{}
			w.ledger.mu.Unlock()
		}
	}
}

// recordID returns the event ID a record carries.
func (w *Writer) recordID(r *kafka.Record) (string, error) {
	if !w.enc.structured {
		for _, h := range r.Headers {
			if h.Key == HeaderID {
				return string(h.Value), nil
			}
		}
		return "", nil
	}
	if r.Value == nil {
		return "", nil
	}
	b, err := io.ReadAll(r.Value)
	if err != nil {
		return "", err
	}
	var env struct {
		ID string `json:"id"`
	}
	_ = json.Unmarshal(b, &env) // a record of another producer need not be an envelope
	return env.ID, nil
}
