package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

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
	cfg, err := loadConfig(ctx, env)
	if err != nil {
		return err
	}
	ctx, lose := context.WithCancelCause(ctx)
	defer lose(nil)
	nc, err := dialRunning(cfg, "connector-tail", natsserver.SubscriberUser, lose)
	if err != nil {
		return err
	}
	defer nc.Close()
	if err := checkStream(ctx, nc, cfg.Journal.Stream); err != nil {
		return journalError(cfg, nc, err)
	}
	subject := fs.Arg(0)
	fmt.Fprintf(stderr, "tailing %s on %s (Ctrl-C to stop)\n", orDefault(subject, cfg.Journal.SubjectPrefix+".>"), cfg.Journal.Stream)
	err = journal.Tail(ctx, nc, cfg.Journal.Stream, journal.TailOptions{Subject: subject, FromStart: *fromStart},
		func(seq uint64, e *connector.Event) error { return printEvent(stdout, seq, e, *asJSON) })
	if cause := context.Cause(ctx); cause != nil && !errors.Is(cause, context.Canceled) {
		return cause // the journal was lost
	}
	if err != nil && !errors.Is(err, context.Canceled) {
		return journalError(cfg, nc, err)
	}
	return err
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
