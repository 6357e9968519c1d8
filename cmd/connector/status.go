package main

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/agentphone-connector/connector/sinks"
	"github.com/agentphone-connector/connector/sources/backfill"
	"github.com/agentphone-connector/connector/statuspage"
)

// startStatusPage starts the page the admin listener serves at /, reading
// the registry, the journal stream, the sinks and backfill's checkpoint.
func startStatusPage(ctx context.Context, cfg Config, nc *nats.Conn, reg prometheus.Gatherer, r *sinks.Runner, log *slog.Logger) (*statuspage.Page, error) {
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, fmt.Errorf("status page: %w", err)
	}
	p := statuspage.New(statuspage.Sources{
		Metrics: reg,
		Journal: func(ctx context.Context) (statuspage.Journal, error) {
			return journalState(ctx, js, cfg.Journal.Stream)
		},
		Sinks: r.Status,
		Backfill: func(ctx context.Context) (backfill.Status, bool, error) {
			return backfill.LastRun(ctx, js, cfg.Journal.Stream)
		},
	}, statuspage.Settings{Logger: log})
	p.Start(ctx)
	return p, nil
}

// journalState reads the stream's size and latest sequence.
func journalState(ctx context.Context, js jetstream.JetStream, stream string) (statuspage.Journal, error) {
	s, err := js.Stream(ctx, stream)
	if err != nil {
		return statuspage.Journal{Stream: stream}, err
	}
	info, err := s.Info(ctx)
	if err != nil {
		return statuspage.Journal{Stream: stream}, err
	}
	return statuspage.Journal{Stream: stream, Events: info.State.Msgs, Bytes: info.State.Bytes, LastSeq: info.State.LastSeq}, nil
}
