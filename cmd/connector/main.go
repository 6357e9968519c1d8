// Command connector takes in AgentPhone's webhooks, verifies, normalizes and
// deduplicates them, journals them in NATS JetStream and fans them out.
//
//	connector [serve]          run the connector (the default)
//	connector config           list every environment variable
//	connector tail [subject]   print journaled events as they arrive
//	connector replay ...       re-drive one sink from the journal
//	connector events           print the event table
//	connector simulate         send a simulated day of AgentPhone traffic to a connector
//	connector backfill         journal what AgentPhone's REST API has and the journal lacks
//	connector healthcheck      ask a running connector's /healthz (or /readyz): for container health checks
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/sethvargo/go-envconfig"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	ctx, detach := attachClient(ctx, os.Args[1:])
	code := Main(ctx, os.Args[1:], envconfig.OsLookuper(), os.Stdout, os.Stderr)
	detach()
	stop()
	os.Exit(code)
}

// attachClient ties the commands that talk to a connector to the process
// that runs them (see attach): each stops when its parent goes or its
// output's reader does, tail also when its standard input closes. serve
// is not tied: it may be started to outlive its parent (nohup, a
// supervisor that forks twice).
func attachClient(ctx context.Context, args []string) (context.Context, context.CancelFunc) {
	cmd := "serve"
	if len(args) > 0 {
		cmd = args[0]
	}
	switch cmd {
	case "tail":
		return attach(ctx, os.Stdin, os.Stdout)
	case "simulate", "query", "replay", "backfill", "healthcheck":
		return attach(ctx, nil, os.Stdout)
	}
	return context.WithCancel(ctx)
}

// errUsage reports a command line that is not understood.
var errUsage = errors.New("usage")

// Main runs the command named by args with the environment lookup and returns
// the process exit code. Cancelling ctx stops a running command cleanly.
func Main(ctx context.Context, args []string, env envconfig.Lookuper, stdout, stderr io.Writer) int {
	cmd := "serve"
	if len(args) > 0 {
		cmd, args = args[0], args[1:]
	}
	var err error
	switch cmd {
	case "serve":
		err = runServe(ctx, env, stdout, stderr)
	case "config":
		err = runConfig(ctx, args, env, stdout)
	case "tail":
		err = runTail(ctx, args, env, stdout, stderr)
	case "replay":
		err = runReplay(ctx, args, env, stdout, stderr)
	case "events":
		err = runEvents(args, stdout)
	case "simulate":
		err = runSimulate(ctx, args, env, stdout, stderr)
	case "backfill":
		err = runBackfill(ctx, args, env, stdout, stderr)
	case "query":
		err = runQuery(ctx, args, env, stdout, stderr)
	case "healthcheck":
		err = runHealthcheck(ctx, args, env, stdout, stderr)
	case "help", "-h", "-help", "--help":
		usage(stdout)
		printVars(stdout, env)
		return 0
	default:
		fmt.Fprintf(stderr, "connector: unknown command %q\n", cmd)
		usage(stderr)
		return 2
	}
	switch {
	case err == nil || errors.Is(err, context.Canceled):
		return 0
	case errors.Is(err, errUsage):
		fmt.Fprintf(stderr, "%v\n(connector help lists every command)\n", err)
		return 2
	default:
		fmt.Fprintln(stderr, "connector:", err)
		return 1
	}
}

func usage(w io.Writer) {
	fmt.Fprint(w, `usage: connector [command]

commands:
  serve                 run the connector (default)
  config [--markdown | --names]
                        list every environment variable with its default and meaning, and
                        check the configuration as serve does (--names: only the names)
  tail [flags] [subject] print journaled events as they arrive (subject defaults to all)
  events [--markdown]   print the event types with their subjects, keys and data fields
  simulate [flags]      send a simulated day of AgentPhone webhooks to a running connector
                        (CONNECTOR_HTTP_ADDR, or --url; simulate -h)
  replay --sink NAME (--since TIME | --seq N)
                        re-drive one sink from the journal (TIME: RFC 3339 or a duration ago)
  backfill [--since 72h] [--restart]
                        journal the calls, transcripts and failed deliveries AgentPhone's REST API
                        has and the running connector's journal lacks (needs AGENTPHONE_API_KEY)
  query NAME [flags]    run a named BigQuery analytics query (query --list names them)
  healthcheck [--ready] [--url URL]
                        exit 0 if the admin listener answers /healthz (--ready: /readyz) with 200,
                        else 1: the health check of a container image that has no curl
  help                  this text and the configuration

Commands other than serve find the connector as it is configured (NATS_URL or
CONNECTOR_NATS_LISTEN for the journal, CONNECTOR_HTTP_ADDR, CONNECTOR_ADMIN_ADDR) and
fail with exit status 1 and one line naming what they could not reach: within 5 s
for a connection, 10 s for AgentPhone's API, 30 s for replay, query --timeout (2m)
for a query; tail stops when its journal has been gone for 10 s. They also stop
when the process that started them goes (a killed go run), when their output's
reader goes, and tail when its standard input, a pipe, closes.

`)
}

// runConfig prints the variables and checks the configuration as serve
// would: an invalid one is an error, with every problem listed.
func runConfig(ctx context.Context, args []string, env envconfig.Lookuper, stdout io.Writer) error {
	switch {
	case len(args) == 0:
		printVars(stdout, env)
		cfg, err := loadConfig(ctx, env)
		if err == nil {
			printRoutes(stdout, cfg)
		}
		return err
	case len(args) == 1 && args[0] == "--markdown":
		printVarsMarkdown(stdout)
	case len(args) == 1 && args[0] == "--names":
		printVarNames(stdout)
	default:
		return fmt.Errorf("%w: config [--markdown | --names]", errUsage)
	}
	return nil
}

// newLogger returns the JSON logger at the configured level.
func newLogger(w io.Writer, level string) *slog.Logger {
	var l slog.Level
	_ = l.UnmarshalText([]byte(level))
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: l}))
}
