// Command loadbench measures the connector's webhook ingest against two
// baselines built in: a server that only verifies the signature, and one that
// verifies and makes one synchronous JetStream publish with Nats-Msg-Id,
// waiting for the ack. Its latency command measures how long an event takes
// from its webhook's 200 to being readable in Kafka, a NATS stream and
// BigQuery, each served in this process. Each runs as its own process, so CPU and memory are
// measured per server; the load generator runs here, on the same machine.
//
//	loadbench run --connector ./connector [--duration 15s] [--rounds 3] [--agents 4] [--conversations 1000] [--calls 0] [--prefill 0]
//	loadbench scale --connector ./connector [--events 1000000]   (empty and prefilled journal, 4 and 100,000 agents)
//	loadbench prefill --dir DIR [--events 1000000] [--agents 4] ...  (a data directory to start a connector on)
//	loadbench drive --url URL --secret S [--duration 15s]   (load on a running server, e.g. to profile it)
//	loadbench latency --connector ./connector [--rate 3000] [--duration 20s] [--kafka host:port] [--cases defaults,...] [--prefill 0] [--agents 4] [--conversations 1000]
//	loadbench flood --connector ./connector [--duration 20s] [--rate 500] [--c 64] [--prefill 0] [--agents 4] [--conversations 1000]
//	loadbench bodies --connector ./connector [--c 64] [--mb 50]
//	loadbench dedupe-memory [--keys 1000000]
//	loadbench journal-bytes [--events 100000]
//
// Figures on a shared machine are noisy: compare the ratios of one run.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "loadbench:", err)
		stop()
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return fmt.Errorf("usage: loadbench run|scale|prefill|drive|latency|flood|bodies|dedupe-memory|journal-bytes|baseline-verify|baseline-publish [flags]")
	}
	switch args[0] {
	case "run":
		return runBench(ctx, args[1:])
	case "scale":
		return runScale(ctx, args[1:])
	case "prefill":
		return runPrefill(ctx, args[1:])
	case "drive":
		return runDrive(ctx, args[1:])
	case "latency":
		return runLatency(ctx, args[1:])
	case "flood":
		return runFlood(ctx, args[1:])
	case "bodies":
		return runBodies(ctx, args[1:])
	case "dedupe-memory":
		return runDedupeMemory(ctx, args[1:])
	case "journal-bytes":
		return runJournalBytes(ctx, args[1:])
	case "dedupe-memory-one":
		return runDedupeMemoryOne(ctx, args[1:])
	case "baseline-verify":
		return serveBaseline(ctx, args[1:], false)
	case "baseline-publish":
		return serveBaseline(ctx, args[1:], true)
	}
	return fmt.Errorf("unknown command %q", args[0])
}
