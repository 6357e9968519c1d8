package kafkasink

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/segmentio/kafka-go/compress"

	connector "github.com/agentphone-connector/connector"
	"github.com/agentphone-connector/connector/sinks"
)

// Settings is what the wiring passes to the Writer.
type Settings struct {
	Logger *slog.Logger
}

// Writer writes journaled events to Kafka through a kafka-go Writer: keyed
// by the event's Subject, acknowledged by all in-sync replicas, compressed
// and batched per partition. It is a connector.Writer; the sinks.Runner
// calls it from one goroutine at a time.
type Writer struct {
	cfg       Config
	enc       encoder
	kw        *kafka.Writer
	transport *kafka.Transport
	admin     *kafka.Client
	log       *slog.Logger
	ledger    *ledger

	mu          sync.Mutex
	topicsReady bool
	spare       *scratch // buffers of the last successful Write, for the next one

	cut     bool       // a WriteMessages ended by its ctx: kafka-go may still be sending (see drain)
	closing chan error // the producer being closed by drain, or nil
}

var _ sinks.Resumable = (*Writer)(nil)

// Name is the sink's name: its consumer, metric label and dead-letter subject.
const Name = "kafka"

// New returns a Writer for cfg. It connects to no broker: the first Write
// does (and creates the topics, when configured to).
func New(cfg Config, set Settings) (*Writer, error) {
	if !cfg.Enabled() {
		return nil, fmt.Errorf("kafka: CONNECTOR_KAFKA_BROKERS is not set")
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	t, err := newTransport(cfg)
	if err != nil {
		return nil, err
	}
	addr := kafka.TCP(trimAll(cfg.Brokers)...)
	w := &Writer{
		cfg: cfg, enc: newEncoder(cfg), transport: t, log: set.Logger, ledger: newLedger(),
		admin: &kafka.Client{Addr: addr, Transport: t, Timeout: cfg.Timeout},
	}
	w.kw = w.newProducer()
	return w, nil
}

// newProducer returns a kafka-go Writer with the sink's settings, which
// reports every partition's answer to the ledger.
func (w *Writer) newProducer() *kafka.Writer {
	return &kafka.Writer{
		Addr:         w.admin.Addr,
		Balancer:     &kafka.Murmur2Balancer{}, // the Java client's partitioner: a key lands where Java producers put it
		MaxAttempts:  1,                        // the Runner retries, with backoff that honours ctx
		BatchSize:    w.cfg.BatchSize,
		BatchBytes:   2 * int64(w.cfg.BatchBytes), // Write sizes requests itself; this only guards kafka-go's own check
		BatchTimeout: time.Millisecond,            // Write hands over whole batches: nothing to linger for
		ReadTimeout:  w.cfg.Timeout,
		WriteTimeout: w.cfg.Timeout,
		RequiredAcks: kafka.RequireAll,
		Compression:  codec(w.cfg.Compression),
		Transport:    w.transport,
		Completion:   w.ledger.completed,
	}
}

func codec(name string) compress.Compression {
	switch name {
	case "zstd":
		return kafka.Zstd
	case "snappy":
		return kafka.Snappy
	case "lz4":
		return kafka.Lz4
	case "gzip":
		return kafka.Gzip
	}
	return 0
}

func trimAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = strings.TrimSpace(s)
	}
	return out
}

// Write writes batch and returns nil when every event is in Kafka,
// acknowledged by all in-sync replicas. Otherwise it returns a
// connector.WriteErrors lined up with batch: connector.ErrAlreadyWritten
// for events found in Kafka from a write whose outcome was unknown (see
// ledger), Permanent for events Kafka will never take (too large, topic
// missing with creation off, not authorized), transient for the rest. Per
// topic, requests go out in order and stop at the first that fails, so a
// key's later events are never written before its earlier ones.
func (w *Writer) Write(ctx context.Context, batch []*connector.Event) error {
	if err := w.ensureTopics(ctx); err != nil {
		return err
	}
	if doubt := w.ledger.doubtful(); len(doubt) > 0 {
		if err := w.tail(ctx, doubt, nil); err != nil {
			return err
		}
	}
	errs := make(connector.WriteErrors, len(batch))
	sc := w.takeScratch(len(batch))
	msgs := sc.messages(len(batch))
	var order []string
	groups := map[string][]int{}
	for i, e := range batch {
		if w.ledger.written(e.ID) {
			errs[i] = connector.ErrAlreadyWritten
			continue
		}
		m, err := w.enc.message(e, sc)
		if err == nil && size(&m) > w.cfg.BatchBytes {
			err = fmt.Errorf("%w: event %s takes %d bytes, CONNECTOR_KAFKA_BATCH_BYTES is %d", ErrTooLarge, e.ID, size(&m), w.cfg.BatchBytes)
		}
		if err != nil {
			errs[i] = connector.Permanent(err)
			continue
		}
		msgs[i] = m
		if _, ok := groups[m.Topic]; !ok {
			order = append(order, m.Topic)
		}
		groups[m.Topic] = append(groups[m.Topic], i)
	}
	for _, topic := range order {
		w.writeTopic(ctx, msgs, groups[topic], errs)
	}
	for _, err := range errs {
		if err != nil && !errors.Is(err, connector.ErrAlreadyWritten) {
			return errs // kafka-go may still be sending what it was given: the scratch is left to it
		}
	}
	w.putScratch(sc)
	for _, err := range errs {
		if err != nil {
			return errs
		}
	}
	return nil
}

// takeScratch returns the scratch the last successful Write left, or a new
// one.
func (w *Writer) takeScratch(n int) *scratch {
	w.mu.Lock()
	sc := w.spare
	w.spare = nil
	w.mu.Unlock()
	if sc == nil {
		return newScratch(n)
	}
	sc.reset()
	return sc
}

// putScratch keeps sc for the next Write: kafka-go is done with every
// message cut from it.
func (w *Writer) putScratch(sc *scratch) {
	w.mu.Lock()
	w.spare = sc
	w.mu.Unlock()
}

// writeTopic writes the messages idx of one topic in requests of at most
// BatchSize messages and BatchBytes bytes, in order; after a request with a
// transient failure the rest is held back.
func (w *Writer) writeTopic(ctx context.Context, msgs []kafka.Message, idx []int, errs connector.WriteErrors) {
	chunks := chunk(msgs, idx, w.cfg.BatchSize, w.cfg.BatchBytes)
	before := w.ledger.snapshot(msgs[idx[0]].Topic)
	for n, c := range chunks {
		if w.writeChunk(ctx, msgs, c, errs) {
			continue
		}
		w.ledger.failed(msgs[idx[0]].Topic, before)
		for _, later := range chunks[n+1:] {
			for _, i := range later {
				errs[i] = ErrNotAttempted
			}
		}
		return
	}
}

// chunk splits idx into runs of at most size messages and bytes bytes.
func chunk(msgs []kafka.Message, idx []int, maxN, maxBytes int) [][]int {
	var out [][]int
	start, bytes := 0, 0
	for j, i := range idx {
		s := size(&msgs[i])
		if j > start && (j-start == maxN || bytes+s > maxBytes) {
			out = append(out, idx[start:j])
			start, bytes = j, 0
		}
		bytes += s
	}
	if start < len(idx) {
		out = append(out, idx[start:])
	}
	return out
}

// writeChunk sends one request's worth and records each message's outcome;
// it reports whether no transient failure occurred. A request the broker
// refuses as too large is retried message by message, so only the oversized
// ones are dead-lettered.
func (w *Writer) writeChunk(ctx context.Context, msgs []kafka.Message, c []int, errs connector.WriteErrors) bool {
	err := w.kw.WriteMessages(ctx, subset(msgs, c)...)
	w.cut = w.cut || err != nil && ctx.Err() != nil
	var tooLarge []int
	for j, i := range c {
		e := errAt(err, j, len(c))
		errs[i] = classify(e, w.cfg.CreateTopics)
		if len(c) > 1 && isTooLarge(e) {
			tooLarge = append(tooLarge, i)
		}
	}
	for n, i := range tooLarge {
		werr := w.kw.WriteMessages(ctx, msgs[i])
		w.cut = w.cut || werr != nil && ctx.Err() != nil
		errs[i] = classify(errAt(werr, 0, 1), w.cfg.CreateTopics)
		if errs[i] != nil && !connector.IsPermanent(errs[i]) {
			for _, rest := range tooLarge[n+1:] {
				errs[rest] = ErrNotAttempted
			}
			break
		}
	}
	for _, i := range c {
		if errs[i] != nil && !connector.IsPermanent(errs[i]) {
			return false
		}
	}
	return true
}

// subset returns the messages idx, in a new slice unless they follow each
// other in msgs (one topic, nothing refused: the usual case).
func subset(msgs []kafka.Message, idx []int) []kafka.Message {
	if n := len(idx); idx[n-1]-idx[0] == n-1 {
		return msgs[idx[0] : idx[0]+n]
	}
	sub := make([]kafka.Message, len(idx))
	for j, i := range idx {
		sub[j] = msgs[i]
	}
	return sub
}

// errAt is the outcome of message j of a WriteMessages call that returned err.
func errAt(err error, j, n int) error {
	if we, ok := err.(kafka.WriteErrors); ok && len(we) == n {
		return we[j]
	}
	return err
}

// ensureTopics creates the sink's topics once, when configured to; topics
// that exist already are fine.
func (w *Writer) ensureTopics(ctx context.Context) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.topicsReady || !w.cfg.CreateTopics {
		return nil
	}
	req := &kafka.CreateTopicsRequest{}
	for _, t := range w.cfg.Topics() {
		req.Topics = append(req.Topics, kafka.TopicConfig{Topic: t, NumPartitions: w.cfg.Partitions, ReplicationFactor: w.cfg.ReplicationFactor})
	}
	resp, err := w.admin.CreateTopics(ctx, req)
	if err != nil {
		return fmt.Errorf("kafka create topics: %w", err)
	}
	var created []string
	for topic, terr := range resp.Errors {
		switch {
		case terr == nil:
			created = append(created, topic)
		case !errors.Is(terr, kafka.TopicAlreadyExists):
			return fmt.Errorf("kafka create topic %s: %w", topic, terr)
		}
	}
	w.topicsReady = true
	if len(created) > 0 {
		w.log.Info("kafka topics created", "topics", created, "partitions", w.cfg.Partitions, "replication_factor", w.cfg.ReplicationFactor)
	}
	return nil
}

// Close flushes what kafka-go still holds and closes its connections. If ctx
// ends first it returns ctx's error and the flush finishes in the background.
func (w *Writer) Close(ctx context.Context) error {
	done := make(chan error, 1)
	closing, kw := w.closing, w.kw
	go func() {
		if closing != nil {
			<-closing
		}
		done <- kw.Close()
	}()
	select {
	case err := <-done:
		w.transport.CloseIdleConnections()
		if err != nil {
			return fmt.Errorf("kafka close: %w", err)
		}
		return nil
	case <-ctx.Done():
		return fmt.Errorf("kafka close: %w", ctx.Err())
	}
}
