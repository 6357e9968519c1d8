package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"

	connector "github.com/agentphone-connector/connector"
	"github.com/agentphone-connector/connector/sinks"
	"github.com/agentphone-connector/connector/sinks/bigquerysink"
	"github.com/agentphone-connector/connector/sinks/kafkasink"
	"github.com/agentphone-connector/connector/sinks/natssink"
)

// startSinks starts every enabled sink on the journal that nc holds. It
// returns a Runner even when no sink is enabled, so that GET /sinks answers.
func startSinks(ctx context.Context, cfg Config, nc *nats.Conn, reg prometheus.Registerer, log *slog.Logger) (*sinks.Runner, error) {
	list, err := enabledSinks(ctx, cfg, reg, log)
	if err != nil {
		return nil, err
	}
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, closeAll(list, fmt.Errorf("sinks: %w", err))
	}
	sc := cfg.Sinks
	sc.DeadLetter.Replicas, sc.DeadLetter.Memory = cfg.Journal.Replicas, cfg.Journal.Memory
	sc.Lease.Replicas, sc.Lease.Memory = cfg.Journal.Replicas, cfg.Journal.Memory
	r, err := sinks.New(js, cfg.Journal.Stream, sc, list, sinks.Settings{Logger: log, Registerer: reg, Replica: cfg.ReplicaName})
	if err != nil {
		return nil, closeAll(list, err)
	}
	if err := r.Start(ctx); err != nil {
		return nil, errors.Join(err, r.Close(context.WithoutCancel(ctx)))
	}
	return r, nil
}

// enabledSinks builds the Writer of each sink whose configuration is set.
// A new sink adds its case here.
func enabledSinks(ctx context.Context, cfg Config, reg prometheus.Registerer, log *slog.Logger) ([]sinks.Sink, error) {
	var list []sinks.Sink
	add := func(name string, b sinks.Batching, r sinks.Route, w connector.Writer, err error) error {
		if err != nil {
			return closeAll(list, fmt.Errorf("sink %s: %w", name, err))
		}
		filter := r.Filter(cfg.Journal.SubjectPrefix)
		list = append(list, sinks.Sink{Name: name, Writer: w, Batch: b, Filter: filter})
		log.Info("sink enabled", "sink", name, "filter", receives(filter))
		return nil
	}
	if cfg.Kafka.Enabled() {
		w, err := kafkasink.New(cfg.Kafka, kafkasink.Settings{Logger: log})
		if err := add(kafkasink.Name, cfg.Kafka.Batching(), cfg.Kafka.Route(), w, err); err != nil {
			return nil, err
		}
	}
	if cfg.NATSSink.Enabled() {
		w, err := natssink.New(cfg.NATSSink, natssink.Settings{Logger: log})
		if err := add(natssink.Name, cfg.NATSSink.Batching(), cfg.NATSSink.Route(), w, err); err != nil {
			return nil, err
		}
	}
	if cfg.BigQuery.Enabled() {
		// New creates the dataset, tables and views when asked to: I/O at start.
		w, err := bigquerysink.New(ctx, cfg.BigQuery, bigquerysink.Settings{Logger: log, Registerer: reg})
		if err := add(bigquerysink.Name, cfg.BigQuery.Batching(), cfg.BigQuery.Route(), w, err); err != nil {
			return nil, err
		}
	}
	return list, nil
}

// sinkRoute is one enabled sink's route, with the variables that set it.
type sinkRoute struct {
	name                  string
	route                 sinks.Route
	kindsVar, subjectsVar string
}

// sinkRoutes returns the route of every enabled sink.
func (c Config) sinkRoutes() []sinkRoute {
	var out []sinkRoute
	if c.Kafka.Enabled() {
		out = append(out, sinkRoute{kafkasink.Name, c.Kafka.Route(), "CONNECTOR_KAFKA_KINDS", ""})
	}
	if c.NATSSink.Enabled() {
		out = append(out, sinkRoute{natssink.Name, c.NATSSink.Route(), "CONNECTOR_NATS_SINK_KINDS", "CONNECTOR_NATS_SINK_FILTER"})
	}
	if c.BigQuery.Enabled() {
		out = append(out, sinkRoute{bigquerysink.Name, c.BigQuery.Route(), "CONNECTOR_BIGQUERY_KINDS", ""})
	}
	return out
}

// checkRoutes reports the routes the journal would refuse: subjects outside
// its prefix, filters that overlap.
func (c Config) checkRoutes() error {
	var errs []error
	for _, s := range c.sinkRoutes() {
		errs = append(errs, s.route.Check(c.Journal.SubjectPrefix, s.kindsVar, s.subjectsVar))
	}
	return errors.Join(errs...)
}

// printRoutes writes what each enabled sink receives, for `connector config`.
func printRoutes(w io.Writer, c Config) {
	routes := c.sinkRoutes()
	if len(routes) == 0 {
		return
	}
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "\nSINK\tRECEIVES (the journal consumer's filter)")
	for _, s := range routes {
		fmt.Fprintf(tw, "%s\t%s\n", s.name, receives(s.route.Filter(c.Journal.SubjectPrefix)))
	}
	tw.Flush()
}

// receives describes a sink filter.
func receives(filter []string) string {
	if filter == nil {
		return "every event"
	}
	return strings.Join(filter, " ")
}

func closeAll(list []sinks.Sink, err error) error {
	for _, s := range list {
		err = errors.Join(err, s.Writer.Close(context.Background()))
	}
	return err
}

// stopSinks stops the sinks before the journal closes: each finishes the
// batch in hand within timeout, or leaves it to the next holder, which
// delivers it exactly once (not a failure of the shutdown).
func stopSinks(r *sinks.Runner, timeout time.Duration, log *slog.Logger) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	err := r.Close(ctx)
	if errors.Is(err, context.DeadlineExceeded) {
		log.Warn("sinks stopped with a batch cut short; the next holder delivers it", "error", err)
		return nil
	}
	return err
}

// checkSinkLoop refuses a NATS sink that would publish back into the
// journal: same server, subjects under the journal's prefix.
func (c Config) checkSinkLoop() error {
	if !c.NATSSink.Enabled() || !strings.HasPrefix(c.NATSSink.Subject, c.Journal.SubjectPrefix+".") {
		return nil
	}
	journal := c.NATSURL
	if c.Embedded() {
		journal = c.NATS.Listen
	}
	if journal != "" && strings.Contains(c.NATSSink.URL, strings.TrimPrefix(journal, "nats://")) {
		return connector.Invalid("CONNECTOR_NATS_SINK_URL, CONNECTOR_NATS_SINK_SUBJECT", "the journal's own server, with subjects under the journal's %s.>: events would be journaled again", c.Journal.SubjectPrefix)
	}
	return nil
}
