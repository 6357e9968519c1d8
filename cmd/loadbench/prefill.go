package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"time"

	"github.com/agentphone-connector/connector/journal"
	"github.com/agentphone-connector/connector/natsserver"
	"github.com/nats-io/nats.go"
)

// store is an embedded server on a data directory, connected to as the
// connector.
type store struct {
	ns *natsserver.Server
	nc *nats.Conn
}

// openStore starts an embedded server on dir, as the connector does.
func openStore(ctx context.Context, dir string) (*store, error) {
	ns, err := natsserver.Start(ctx, natsserver.Config{Listen: "none", MaxPayload: 8 << 20, StoreDir: dir, StartWait: startWait}, discard)
	if err != nil {
		return nil, err
	}
	nc, err := ns.Connect()
	if err != nil {
		ns.Shutdown(context.WithoutCancel(ctx))
		return nil, err
	}
	return &store{ns: ns, nc: nc}, nil
}

// journal opens the journal on the store, with benchJournal's configuration.
func (s *store) journal(ctx context.Context) (*journal.Journal, error) {
	return journal.Open(ctx, s.nc, benchJournal(), journal.Settings{Logger: discard})
}

func (s *store) close() {
	s.nc.Close()
	s.ns.Shutdown(context.Background())
}

var discard = slog.New(slog.NewTextHandler(io.Discard, nil))

// benchJournal is the journal configuration of every target: the
// connector's defaults.
func benchJournal() journal.Config {
	return journal.Config{Stream: "AGENTPHONE", SubjectPrefix: "agentphone", Replicas: 1, MaxAge: 168 * time.Hour,
		MaxBytes: -1, DedupeWindow: 72 * time.Hour, AppendTimeout: 30 * time.Second}
}

// prefill journals n fresh deliveries of the given traffic into a store in
// dir, normalized as the webhook source does, then closes the store: the
// history the targets start on.
func prefill(ctx context.Context, dir string, n int, shape traffic) error {
	store, err := openStore(ctx, dir)
	if err != nil {
		return err
	}
	defer store.close()
	j, err := store.journal(ctx)
	if err != nil {
		return err
	}
	start := time.Now()
	fmt.Fprintf(os.Stderr, "prefilling %d events (%s)...\n", n, shape)
	w := newWorkload("", "", "pre", shape)
	err = appendAll(ctx, j, n, 64, func(i int) (string, []byte) {
		d := w.fresh(rand.New(rand.NewPCG(uint64(i), 0x5eed)))
		return d.id, d.body
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "prefilled %d events in %v\n", n, time.Since(start).Round(time.Second))
	return nil
}

// runPrefill fills a data directory for a connector to start on, e.g. to
// profile it on a journal of production size:
//
//	loadbench prefill --dir ./data --events 1000000 --agents 100000 --conversations 100000
//	CONNECTOR_DATA_DIR=./data CONNECTOR_PPROF=true connector serve
func runPrefill(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("prefill", flag.ContinueOnError)
	dir := fs.String("dir", "", "data directory (CONNECTOR_DATA_DIR) to fill; required")
	n := fs.Int("events", 1_000_000, "events to journal")
	agents := fs.Int("agents", 4, "distinct agents the deliveries come from")
	convs := fs.Int("conversations", 1000, "distinct SMS conversations")
	calls := fs.Int("calls", 0, "distinct calls the call_ended deliveries cycle through; 0 for a new call each")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *dir == "" {
		return fmt.Errorf("--dir is required")
	}
	return prefill(ctx, *dir, *n, traffic{agents: *agents, conversations: *convs, calls: *calls})
}
