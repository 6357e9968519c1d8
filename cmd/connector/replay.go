package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/sethvargo/go-envconfig"

	"github.com/agentphone-connector/connector/natsserver"
	"github.com/agentphone-connector/connector/sinks"
)

const replayUsage = "replay --sink NAME (--since TIME | --seq N)"

// runReplay re-drives one sink from the journal: its consumer is moved back
// to a sequence or a time; no other sink is touched. A running connector
// picks the new position up with its next fetch.
func runReplay(ctx context.Context, args []string, env envconfig.Lookuper, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("replay", flag.ContinueOnError)
	fs.SetOutput(stderr)
	sink := fs.String("sink", "", "the sink to re-drive: kafka, nats, ...")
	since := fs.String("since", "", "re-drive events journaled at or after this time: RFC 3339 (2026-03-01T12:00:00Z) or a duration ago (90m)")
	seq := fs.Uint64("seq", 0, "re-drive from this journal stream sequence on")
	if err := fs.Parse(args); err != nil || fs.NArg() > 0 || *sink == "" || (*since == "") == (*seq == 0) {
		return fmt.Errorf("%w: %s", errUsage, replayUsage)
	}
	from, err := parseSince(*since, time.Now())
	if err != nil {
		return fmt.Errorf("%w: --since: %v", errUsage, err)
	}
	var cfg Config
	if err := envconfig.ProcessWith(ctx, &envconfig.Config{Target: &cfg, Lookuper: env}); err != nil {
		return fmt.Errorf("invalid configuration: %w", err)
	}
	nc, err := dialRunning(cfg, "connector-replay", natsserver.ConnectorUser)
	if err != nil {
		return err
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return err
	}
	start := *seq
	if *since != "" {
		if start, err = sinks.SeqAt(ctx, js, cfg.Journal.Stream, from); err != nil {
			return err
		}
	}
	next, err := sinks.Reposition(ctx, js, cfg.Journal.Stream, *sink, start)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "sink %s re-reads %s from sequence %d on; targets drop the events they hold already by event ID where they can\n", *sink, cfg.Journal.Stream, next)
	return nil
}
