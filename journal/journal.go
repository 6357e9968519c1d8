// Package journal keeps the connector's events durably in a JetStream stream.
//
// Every event is published with Nats-Msg-Id set to its ID, and the stream's
// duplicate window is the dedupe window: JetStream records the ID atomically
// with the message, so a key becomes final exactly when the journal has the
// event, and a failed append records nothing. The window is rebuilt from the
// stored messages when the server restarts, and every replica of the connector
// publishes to the same stream, so it is shared.
package journal

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	fastjson "github.com/segmentio/encoding/json"

	connector "github.com/agentphone-connector/connector"
)

// Settings is what the wiring passes to the journal.
type Settings struct {
	Logger     *slog.Logger
	Registerer prometheus.Registerer
}

// Journal appends events to the stream. It is safe for concurrent use.
type Journal struct {
	cfg     Config
	js      jetstream.JetStream
	nc      *nats.Conn
	log     *slog.Logger
	metrics *metrics
	full    atomic.Bool // the last append was refused for the stream's limits
	bufs    sync.Pool   // *[]byte: encoded events, reused once the journal has acked them
}

// getBuf returns a pooled buffer of at least size bytes.
func (j *Journal) getBuf(size int) *[]byte {
	if b, ok := j.bufs.Get().(*[]byte); ok && cap(*b) >= size {
		return b
	}
	b := make([]byte, 0, size)
	return &b
}

var _ connector.Appender = (*Journal)(nil)

// Open creates the stream, or updates it to cfg, on the server nc is
// connected to. The caller keeps owning nc and closes it after the journal.
func Open(ctx context.Context, nc *nats.Conn, cfg Config, set Settings) (*Journal, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, fmt.Errorf("open journal: %w", err)
	}
	if _, err := js.CreateOrUpdateStream(ctx, StreamConfig(cfg)); err != nil {
		return nil, fmt.Errorf("open journal %s: %w", cfg.Stream, err)
	}
	m, err := newMetrics(set.Registerer)
	if err != nil {
		return nil, fmt.Errorf("open journal: %w", err)
	}
	set.Logger.Info("journal open", "stream", cfg.Stream, "subjects", cfg.SubjectPrefix+".>", "dedupe_window", cfg.DedupeWindow.String())
	return &Journal{cfg: cfg, js: js, nc: nc, log: set.Logger, metrics: m}, nil
}

// StreamConfig returns the JetStream configuration of the journal stream.
func StreamConfig(cfg Config) jetstream.StreamConfig {
	sc := jetstream.StreamConfig{
		Name:        cfg.Stream,
		Description: "AgentPhone events, normalized (agentphone-connector)",
		Subjects:    []string{cfg.SubjectPrefix + ".>"},
		Retention:   jetstream.LimitsPolicy,
		Discard:     jetstream.DiscardNew,
		MaxAge:      cfg.MaxAge,
		MaxBytes:    cfg.MaxBytes,
		MaxMsgs:     -1,
		Duplicates:  cfg.DedupeWindow,
		Replicas:    cfg.Replicas,
		Storage:     jetstream.FileStorage,
	}
	if cfg.Memory {
		sc.Storage = jetstream.MemoryStorage
	}
	return sc
}

// Append journals e with Nats-Msg-Id = e.ID and waits for the stream's ack,
// at most the configured append timeout. Errors wrap connector.ErrUnavailable
// when the journal could not take the event now.
func (j *Journal) Append(ctx context.Context, e *connector.Event) (connector.Appended, error) {
	buf := j.getBuf(e.MarshalSize())
	defer j.bufs.Put(buf)
	body, err := e.AppendMarshal((*buf)[:0])
	if err != nil {
		return connector.Appended{}, fmt.Errorf("journal append: %w", err)
	}
	*buf = body // keep what grew, for the next event
	msg := &nats.Msg{Subject: e.SubjectIn(j.cfg.SubjectPrefix), Data: body, Header: nats.Header{}}
	msg.Header["Content-Type"] = contentType
	if e.Kind().OnePerSubject && e.Subject != "" {
		// Stored only if the stream holds no event of this kind about this
		// subject yet: the natural key, checked in the step that stores.
		msg.Header[jetstream.ExpectedLastSubjSeqHeader] = zero
		msg.Header[expectedLastSubjSeqSubj] = []string{e.SameSubjectFilter(j.cfg.SubjectPrefix)}
	}
	msg.Header[jetstream.MsgIDHeader] = []string{e.ID}
	ctx, cancel := context.WithTimeout(ctx, j.cfg.AppendTimeout)
	defer cancel()
	start := time.Now()
	ack, err := j.publish(ctx, msg)
	j.metrics.observe(time.Since(start), err)
	if seq, ok := takenBy(err); ok {
		return connector.Appended{Seq: seq, Duplicate: true}, nil
	}
	if err != nil {
		if isStoreFailure(err) {
			j.full.Store(true)
			err = fmt.Errorf("%w: %w", ErrFull, err)
		}
		return connector.Appended{}, fmt.Errorf("journal append %s: %w: %w", e.ID, connector.ErrUnavailable, err)
	}
	j.full.Store(false)
	return connector.Appended{Seq: ack.Seq, Duplicate: ack.Duplicate}, nil
}

// pubAck is the stream's answer to a publish.
type pubAck struct {
	Stream    string              `json:"stream"`
	Seq       uint64              `json:"seq"`
	Duplicate bool                `json:"duplicate"`
	Error     *jetstream.APIError `json:"error"`
}

// errBadAck reports an answer that is not a JetStream publish ack.
var errBadAck = errors.New("journal: invalid publish ack")

// publish sends msg to the stream and waits for its ack: what
// jetstream.PublishMsg does, with the ack decoded by the same fast decoder
// as the events, on the path every webhook takes. A JetStream error is
// returned as a *jetstream.APIError.
func (j *Journal) publish(ctx context.Context, msg *nats.Msg) (pubAck, error) {
	resp, err := j.nc.RequestMsgWithContext(ctx, msg)
	if err != nil {
		return pubAck{}, err
	}
	var ack pubAck
	if err := fastjson.Unmarshal(resp.Data, &ack); err != nil {
		return pubAck{}, fmt.Errorf("%w: %v", errBadAck, err)
	}
	if ack.Error != nil {
		return pubAck{}, fmt.Errorf("nats: %w", ack.Error)
	}
	if ack.Stream == "" {
		return pubAck{}, errBadAck
	}
	return ack, nil
}

// Header values set on every append, shared rather than allocated each time.
var (
	contentType = []string{connector.ContentType}
	zero        = []string{"0"}
)

// expectedLastSubjSeqSubj narrows the expected-last-subject-sequence check to
// a filter (nats-server 2.12 and later).
const expectedLastSubjSeqSubj = "Nats-Expected-Last-Subject-Sequence-Subject"

// jsWrongLastSeq is JetStream's error code for a failed expected-sequence
// check; its description ends with the sequence found.
const jsWrongLastSeq = 10071

// takenBy reports whether err says the subject of a one-per-subject event is
// taken, and by which sequence.
func takenBy(err error) (uint64, bool) {
	var apiErr *jetstream.APIError
	if !errors.As(err, &apiErr) || apiErr.ErrorCode != jsWrongLastSeq {
		return 0, false
	}
	_, n, _ := strings.Cut(apiErr.Description, ": ")
	seq, _ := strconv.ParseUint(strings.TrimSpace(n), 10, 64)
	return seq, true
}

// Holds reports whether the journal holds an event of e's kind about e's
// subject (on any channel and agent): for a one-per-subject kind, whether e
// would be a duplicate.
func (j *Journal) Holds(ctx context.Context, e *connector.Event) (bool, error) {
	s, err := j.js.Stream(ctx, j.cfg.Stream)
	if err != nil {
		return false, fmt.Errorf("journal lookup: %w", err)
	}
	_, err = s.GetLastMsgForSubject(ctx, e.SameSubjectFilter(j.cfg.SubjectPrefix))
	switch {
	case errors.Is(err, jetstream.ErrMsgNotFound):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("journal lookup: %w", err)
	}
	return true, nil
}

// ErrFull reports a stream that has reached its size limit and refuses new events.
var ErrFull = errors.New("journal: stream full")

// jsStoreFailed is JetStream's error code for a message the stream refused to
// store: over its byte or message limits (discard new), or too large.
const jsStoreFailed = 10077

func isStoreFailure(err error) bool {
	var apiErr *jetstream.APIError
	return errors.As(err, &apiErr) && apiErr.ErrorCode == jsStoreFailed
}

// Ready reports whether the journal accepts writes now: connected, the stream
// reachable, and neither at its size limit nor refusing the last append for it.
func (j *Journal) Ready(ctx context.Context) error {
	if !j.nc.IsConnected() {
		return fmt.Errorf("%w: nats %s", connector.ErrUnavailable, j.nc.Status())
	}
	s, err := j.js.Stream(ctx, j.cfg.Stream)
	if err != nil {
		return fmt.Errorf("%w: %w", connector.ErrUnavailable, err)
	}
	info := s.CachedInfo()
	if j.full.Load() || info.Config.MaxBytes > 0 && int64(info.State.Bytes) >= info.Config.MaxBytes {
		return ErrFull
	}
	return nil
}
