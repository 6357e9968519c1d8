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
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"

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
	stream  jetstream.Stream // a handle: its calls ask the server, never a cache
	nc      *nats.Conn
	log     *slog.Logger
	metrics *metrics
	full    atomic.Bool // the last append was refused for the stream's limits
	bufs    sync.Pool   // *[]byte: encoded events, reused once the journal has acked them
	// legacyUntil is when the last event stored under the previous subject
	// layout ages out; zero when the stream holds none.
	legacyUntil time.Time
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
//
// A JetStream that cannot answer yet (a cluster still electing its leader,
// or short of the peers a replicated stream needs) is asked again until it
// can or ctx ends: give ctx the time start-up may take. A configuration the
// server refuses fails at once.
func Open(ctx context.Context, nc *nats.Conn, cfg Config, set Settings) (*Journal, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, fmt.Errorf("open journal: %w", err)
	}
	stream, err := ensureStream(ctx, js, cfg, set.Logger)
	if err != nil {
		return nil, fmt.Errorf("open journal %s: %w", cfg.Stream, err)
	}
	m, err := newMetrics(set.Registerer)
	if err != nil {
		return nil, fmt.Errorf("open journal: %w", err)
	}
	info := stream.CachedInfo()
	j := &Journal{cfg: cfg, nc: nc, stream: stream, log: set.Logger, metrics: m, legacyUntil: legacyUntil(info.Config.Metadata)}
	set.Logger.Info("journal open", "stream", cfg.Stream, "subjects", cfg.SubjectPrefix+".>",
		"dedupe_window", cfg.DedupeWindow.String(), "events", info.State.Msgs, "bytes", info.State.Bytes)
	if !j.legacyUntil.IsZero() {
		set.Logger.Info("journal holds events under the previous subject layout; backfill looks calls up under both",
			"until", j.legacyUntil.Format(time.RFC3339))
	}
	return j, nil
}

// StreamConfig returns the JetStream configuration of a new journal stream.
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
		Metadata:    map[string]string{metaLayout: layout},
	}
	if cfg.Memory {
		sc.Storage = jetstream.MemoryStorage
	}
	return sc
}

// ErrFull reports a stream that has reached its size limit and refuses new events.
var ErrFull = errors.New("journal: stream full")

// Ready reports whether the journal accepts writes now: connected, the stream
// reachable, and neither at its size limit nor refusing the last append for it.
func (j *Journal) Ready(ctx context.Context) error {
	if !j.nc.IsConnected() {
		return fmt.Errorf("%w: nats %s", connector.ErrUnavailable, j.nc.Status())
	}
	info, err := j.stream.Info(ctx)
	if err != nil {
		return fmt.Errorf("%w: %w", connector.ErrUnavailable, err)
	}
	if j.full.Load() || info.Config.MaxBytes > 0 && int64(info.State.Bytes) >= info.Config.MaxBytes {
		return ErrFull
	}
	return nil
}
