package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"

	connector "github.com/agentphone-connector/connector"
	"github.com/agentphone-connector/connector/dedupe"
	"github.com/agentphone-connector/connector/journal"
	"github.com/agentphone-connector/connector/lease"
	"github.com/agentphone-connector/connector/sources/agentphoneapi"
	"github.com/agentphone-connector/connector/sources/backfill"
	"github.com/agentphone-connector/connector/sources/transcript"
)

// validatePullSources reports the problems of the settings of the sources
// that call AgentPhone: the transcript streams and backfill.
func (c Config) validatePullSources() error {
	errs := []error{c.API.Validate(), c.Transcript.Validate(), c.Backfill.Validate()}
	if c.Transcript.Enabled {
		errs = append(errs, c.API.RequireKey("AGENTPHONE_TRANSCRIPTS"))
	}
	if c.Backfill.Interval > 0 {
		errs = append(errs, c.API.RequireKey("CONNECTOR_BACKFILL_INTERVAL"))
	}
	if c.Backfill.Since > c.Journal.DedupeWindow {
		errs = append(errs, connector.Invalid("CONNECTOR_BACKFILL_SINCE, CONNECTOR_DEDUPE_WINDOW", "backfill must not look back past the dedupe window: what the journal no longer remembers would be added twice"))
	}
	return errors.Join(errs...)
}

// openMarks opens the marks the transcript source and backfill share: which
// calls have every turn journaled.
func openMarks(ctx context.Context, cfg Config, nc *nats.Conn) (*dedupe.Marks, error) {
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, err
	}
	return dedupe.OpenMarks(ctx, js, cfg.Journal.Stream, cfg.Journal.DedupeWindow, cfg.Journal.Replicas)
}

// pullSources are the sources that call AgentPhone rather than being
// called: the transcript streams and the periodic backfill. Either may be
// off (nil).
type pullSources struct {
	transcript *transcript.Source
	backfill   *backfill.Backfill
	api        *agentphoneapi.Client
}

// startPullSources starts what the configuration enables; they journal
// through app (the dedupe guard in front of j) and record what is complete
// in the marks.
func startPullSources(ctx context.Context, cfg Config, nc *nats.Conn, app connector.Appender, j *journal.Journal, log *slog.Logger, reg prometheus.Registerer) (*pullSources, error) {
	p := &pullSources{}
	if !cfg.Transcript.Enabled && cfg.Backfill.Interval == 0 {
		return p, nil
	}
	marks, err := openMarks(ctx, cfg, nc)
	if err != nil {
		return nil, err
	}
	api, err := agentphoneapi.New(cfg.API, agentphoneapi.Settings{Logger: log})
	if err != nil {
		return nil, err
	}
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, err
	}
	p.api = api
	if cfg.Transcript.Enabled {
		p.transcript, err = transcript.New(cfg.Transcript, transcript.Deps{API: api, Journal: app, JetStream: js,
			Stream: cfg.Journal.Stream, SubjectPrefix: cfg.Journal.SubjectPrefix, Replicas: cfg.Journal.Replicas, Marks: marks},
			transcript.Settings{Logger: log, Registerer: reg, ReplicaID: lease.Name(cfg.ReplicaName)})
		if err == nil {
			err = p.transcript.Start(ctx)
		}
		if err != nil {
			return nil, fmt.Errorf("transcript source: %w", err)
		}
	}
	if cfg.Backfill.Interval > 0 {
		p.backfill, err = backfill.New(ctx, cfg.Backfill, backfill.Deps{API: api, Journal: app, Index: j, Marks: marks, JetStream: js,
			Stream: cfg.Journal.Stream, Replicas: cfg.Journal.Replicas}, backfill.Settings{Logger: log, Registerer: reg, Holder: lease.Name(cfg.ReplicaName)})
		if err != nil {
			return nil, errors.Join(fmt.Errorf("backfill: %w", err), p.close(10*time.Second))
		}
		p.backfill.Start()
	}
	return p, nil
}

// close stops the transcript streams (releasing their calls to other
// replicas) and any backfill in progress (its checkpoint keeps its place).
func (p *pullSources) close(timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var errs []error
	if p.transcript != nil {
		errs = append(errs, p.transcript.Close(ctx))
	}
	if p.backfill != nil {
		errs = append(errs, p.backfill.Close(ctx))
	}
	if p.api != nil {
		p.api.CloseIdleConnections()
	}
	return errors.Join(errs...)
}
