package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/sethvargo/go-envconfig"

	"github.com/agentphone-connector/connector/natsserver"
	"github.com/agentphone-connector/connector/sinks"
)

// onlyWhat says which events a replay re-sends.
func onlyWhat(filter []string) string {
	if filter == nil {
		return "every event"
	}
	return "only the events of its filter " + strings.Join(filter, " ")
}

const replayUsage = "replay --sink NAME (--since TIME | --seq N)"

// replayTimeout bounds a replay: connecting, finding the sequence, moving
// the consumer.
const replayTimeout = 30 * time.Second

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
	cfg, err := loadConfig(ctx, env)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, replayTimeout)
	defer cancel()
	nc, err := dialRunning(cfg, "connector-replay", natsserver.ConnectorUser, nil)
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
			return journalError(cfg, nc, err)
		}
	}
	at, err := sinks.Reposition(ctx, js, cfg.Journal.Stream, *sink, start)
	if err != nil {
		return journalError(cfg, nc, err)
	}
	fmt.Fprintf(stdout, "sink %s re-reads %s from sequence %d on, %s; targets drop the events they hold already by event ID where they can\n",
		*sink, cfg.Journal.Stream, at.Next, onlyWhat(at.Filter))
	return nil
}
