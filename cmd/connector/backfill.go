package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/sethvargo/go-envconfig"

	"github.com/agentphone-connector/connector/dedupe"
	"github.com/agentphone-connector/connector/journal"
	"github.com/agentphone-connector/connector/natsserver"
	"github.com/agentphone-connector/connector/sources/agentphoneapi"
	"github.com/agentphone-connector/connector/sources/backfill"
)

// runBackfill journals what AgentPhone's REST API knows and the journal
// lacks, once, and prints what it found. It works on the journal of a
// running connector (its NATS_URL, or the embedded server's listen
// address), under the same dedupe as serve.
func runBackfill(ctx context.Context, args []string, env envconfig.Lookuper, stdout, stderr io.Writer) error {
	cfg, err := loadConfig(ctx, env)
	if err != nil {
		return err
	}
	fs := flag.NewFlagSet("backfill", flag.ContinueOnError)
	fs.SetOutput(stderr)
	since := fs.Duration("since", cfg.Backfill.Since, "how far back to look: calls by start time, deliveries by creation (at most 168h)")
	restart := fs.Bool("restart", false, "start over instead of resuming an interrupted run")
	const usageLine = "backfill [--since 72h] [--restart]"
	if err := fs.Parse(args); err != nil || fs.NArg() > 0 {
		return fmt.Errorf("%w: %s", errUsage, usageLine)
	}
	if *since < time.Minute || *since > cfg.Journal.DedupeWindow {
		return fmt.Errorf("%w: --since must be between 1m and the dedupe window, %s (CONNECTOR_DEDUPE_WINDOW): older records have left the window and would be added twice", errUsage, cfg.Journal.DedupeWindow)
	}
	if err := cfg.API.RequireKey("connector backfill"); err != nil {
		return err
	}
	log := newLogger(stderr, cfg.LogLevel)
	nc, err := dialRunning(cfg, "connector-backfill", natsserver.ConnectorUser, nil)
	if err != nil {
		return err
	}
	defer nc.Close()
	if err := checkAPI(ctx, cfg.API); err != nil {
		return err
	}
	b, api, err := openBackfill(ctx, cfg, nc, log)
	if err != nil {
		return journalError(cfg, nc, err)
	}
	defer api.CloseIdleConnections()
	log.Info("backfill", "since", since.String(), "api", cfg.API.URL)
	rep, err := b.Run(ctx, backfill.Options{Since: *since, Restart: *restart})
	if !errors.Is(err, backfill.ErrBusy) {
		rep.Print(stdout)
	}
	return err
}

// checkAPI makes one request to AgentPhone's REST API, not retried and
// within apiCheckWait, so that a wrong URL or key fails at once rather
// than after every retry of the run.
func checkAPI(ctx context.Context, cfg agentphoneapi.Config) error {
	ctx, cancel := context.WithTimeout(ctx, apiCheckWait)
	defer cancel()
	cfg.MaxRetries, cfg.Timeout = 0, apiCheckWait
	api, err := agentphoneapi.New(cfg, agentphoneapi.Settings{})
	if err != nil {
		return err
	}
	defer api.CloseIdleConnections()
	_, err = api.ListCalls(ctx, agentphoneapi.ListCalls{Limit: 1})
	var apiErr *agentphoneapi.Error
	switch {
	case err == nil:
		return nil
	case errors.Is(err, agentphoneapi.ErrUnauthorized):
		return fmt.Errorf("AgentPhone's API at %s refused the key (AGENTPHONE_API_KEY or AGENTPHONE_API_KEY_FILE): %w", cfg.URL, err)
	case errors.As(err, &apiErr):
		return fmt.Errorf("AgentPhone's API at %s (AGENTPHONE_API_URL) answered an error: %w", cfg.URL, err)
	}
	return unreachable("AgentPhone's API", cfg.URL, "AGENTPHONE_API_URL", err)
}

// openBackfill opens the journal and the dedupe chain serve uses, and the
// backfill on them.
func openBackfill(ctx context.Context, cfg Config, nc *nats.Conn, log *slog.Logger) (*backfill.Backfill, *agentphoneapi.Client, error) {
	j, err := journal.Open(ctx, nc, cfg.Journal, journal.Settings{Logger: log})
	if err != nil {
		return nil, nil, err
	}
	marks, err := openMarks(ctx, cfg, nc)
	if err != nil {
		return nil, nil, err
	}
	guard, err := dedupe.New(j, cfg.Journal.DedupeWindow, dedupe.Config{}, dedupe.Settings{})
	if err != nil {
		return nil, nil, err
	}
	api, err := agentphoneapi.New(cfg.API, agentphoneapi.Settings{Logger: log})
	if err != nil {
		return nil, nil, err
	}
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, nil, err
	}
	b, err := backfill.New(ctx, cfg.Backfill, backfill.Deps{API: api, Journal: guard, Index: j, Marks: marks, JetStream: js,
		Stream: cfg.Journal.Stream, Replicas: cfg.Journal.Replicas}, backfill.Settings{Logger: log})
	if err != nil {
		return nil, nil, err
	}
	return b, api, nil
}
