package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/sethvargo/go-envconfig"

	connector "github.com/agentphone-connector/connector"
	"github.com/agentphone-connector/connector/journal"
	"github.com/agentphone-connector/connector/natsserver"
)

// runTail prints the journal's events as they arrive: the quickest way to see
// the pipeline work.
func runTail(ctx context.Context, args []string, env envconfig.Lookuper, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("tail", flag.ContinueOnError)
	fs.SetOutput(stderr)
	asJSON := fs.Bool("json", false, "print each event as its full JSON envelope")
	fromStart := fs.Bool("all", false, "start from the first stored event instead of new ones")
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("%w: tail [--json] [--all] [subject]", errUsage)
	}
	if fs.NArg() > 1 {
		return fmt.Errorf("%w: tail takes one subject", errUsage)
	}
	var cfg Config
	if err := envconfig.ProcessWith(ctx, &envconfig.Config{Target: &cfg, Lookuper: env}); err != nil {
		return fmt.Errorf("invalid configuration: %w", err)
	}
	nc, err := dialRunning(cfg, "connector-tail", natsserver.SubscriberUser)
	if err != nil {
		return err
	}
	defer nc.Close()
	subject := fs.Arg(0)
	fmt.Fprintf(stderr, "tailing %s on %s (Ctrl-C to stop)\n", orDefault(subject, cfg.Journal.SubjectPrefix+".>"), cfg.Journal.Stream)
	return journal.Tail(ctx, nc, cfg.Journal.Stream, journal.TailOptions{Subject: subject, FromStart: *fromStart},
		func(seq uint64, e *connector.Event) error { return printEvent(stdout, seq, e, *asJSON) })
}

func printEvent(w io.Writer, seq uint64, e *connector.Event, asJSON bool) error {
	if asJSON {
		b, err := e.Marshal()
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(w, "%s\n", b)
		return err
	}
	status := ""
	if e.Status != connector.StatusOK {
		status = "  status=" + string(e.Status)
	}
	_, err := fmt.Fprintf(w, "#%d  %s  %s  %s  agent=%s  subject=%s  id=%s%s\n",
		seq, e.Time.UTC().Format(time.RFC3339), strings.TrimPrefix(e.Type, connector.TypePrefix),
		orDefault(e.Channel, "-"), orDefault(e.AgentID, "-"), orDefault(e.Subject, "-"), e.ID, status)
	return err
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// dialRunning connects a command to the journal's NATS: NATS_URL, or the
// embedded server of a connector running on this host, as user there
// (natsserver.SubscriberUser to read, natsserver.ConnectorUser to write).
func dialRunning(cfg Config, name, user string) (*nats.Conn, error) {
	url := cfg.NATSURL
	if url == "" {
		url = "nats://" + strings.Replace(cfg.NATS.Listen, "0.0.0.0", "127.0.0.1", 1)
	}
	opts, err := natsAuth(cfg, user)
	if err != nil {
		return nil, err
	}
	opts = append(opts, nats.Name(name), nats.Timeout(5*time.Second))
	if user == natsserver.ConnectorUser {
		opts = append(opts, nats.CustomInboxPrefix(natsserver.InboxPrefix)) // as serve: only the connector reads its replies
	}
	nc, err := nats.Connect(url, opts...)
	if err != nil {
		return nil, fmt.Errorf("connect %s (is the connector running?): %w", redactURL(url), err)
	}
	return nc, nil
}
