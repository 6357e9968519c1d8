package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/agentphone-connector/connector/natsserver"
)

// How long a command waits for what it talks to; README.md and `connector
// help` give the same figures.
const (
	dialTimeout    = 5 * time.Second  // one connection attempt: NATS, the webhook URL, BigQuery
	journalLossMax = 10 * time.Second // tail: the journal gone this long, however it is retried, ends it
	apiCheckWait   = 10 * time.Second // backfill: the first request to AgentPhone's API
)

// unreachable is the one-line error of a command that could not reach what
// it talks to: what, where, and the variable that points there.
func unreachable(what, where, via string, err error) error {
	return fmt.Errorf("cannot reach %s at %s (%s): %w", what, where, via, err)
}

// journalAddress is where a command finds the journal, and the variable
// that says so: NATS_URL, or the listen address of the embedded server of
// a connector running on this host.
func journalAddress(cfg Config) (url, via string, err error) {
	if !cfg.Embedded() {
		return cfg.NATSURL, "NATS_URL", nil
	}
	const via0 = "CONNECTOR_NATS_LISTEN of the running connector; NATS_URL for another server"
	host, port, splitErr := net.SplitHostPort(cfg.NATS.Listen)
	if splitErr != nil || port == "0" {
		return "", via0, fmt.Errorf("the journal: CONNECTOR_NATS_LISTEN=%q gives no address to dial; set NATS_URL to the connector's NATS (its start-up log line \"connector ready\" names it)", cfg.NATS.Listen)
	}
	return "nats://" + loopback(net.JoinHostPort(host, port)), via0, nil
}

// dialRunning connects a command to the journal's NATS: NATS_URL, or the
// embedded server of a connector running on this host, as user there
// (natsserver.SubscriberUser to read, natsserver.ConnectorUser to write).
// Each server URL gets dialTimeout. Once connected, a lost connection is
// retried; lost (when not nil) is called when it has been gone for
// journalLossMax, or closes.
func dialRunning(cfg Config, name, user string, lost func(error)) (*nats.Conn, error) {
	url, via, err := journalAddress(cfg)
	if err != nil {
		return nil, err
	}
	opts, err := natsAuth(cfg, user)
	if err != nil {
		return nil, unreachable("the journal", redactURL(url), via+"; is `connector serve` running?", err)
	}
	opts = append(opts, nats.Name(name), nats.Timeout(dialTimeout), nats.ReconnectWait(time.Second))
	if user == natsserver.ConnectorUser {
		opts = append(opts, nats.CustomInboxPrefix(natsserver.InboxPrefix)) // as serve: only the connector reads its replies
	}
	if lost != nil {
		opts = append(opts, lossAfter(journalLossMax, func(cause error) {
			lost(unreachable("the journal", redactURL(url), via, fmt.Errorf("gone for %s: %w", journalLossMax, cause)))
		})...)
	}
	nc, err := nats.Connect(url, opts...)
	if errors.Is(err, nats.ErrAuthorization) {
		return nil, fmt.Errorf("the journal at %s (%s) refused the credentials (NATS_USER and NATS_PASSWORD, NATS_CREDS, or those of the embedded server under CONNECTOR_DATA_DIR): %w", redactURL(url), via, err)
	}
	if err != nil {
		return nil, unreachable("the journal", redactURL(url), via+"; is `connector serve` running?", err)
	}
	return nc, nil
}

// lossAfter returns the options that call lost once a connection has been
// down for d (however long each attempt to reconnect takes), or has closed.
func lossAfter(d time.Duration, lost func(cause error)) []nats.Option {
	var mu sync.Mutex
	var timer *time.Timer
	stop := func() {
		mu.Lock()
		defer mu.Unlock()
		if timer != nil {
			timer.Stop()
		}
	}
	return []nats.Option{
		nats.MaxReconnects(-1),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			if err == nil {
				err = nats.ErrConnectionClosed
			}
			mu.Lock()
			defer mu.Unlock()
			timer = time.AfterFunc(d, func() { lost(err) })
		}),
		nats.ReconnectHandler(func(*nats.Conn) { stop() }),
		nats.ClosedHandler(func(*nats.Conn) { stop(); lost(nats.ErrConnectionClosed) }),
	}
}

// journalError names the variable behind a journal call's failure: the
// stream that is not there, or the server that does not answer.
func journalError(cfg Config, nc *nats.Conn, err error) error {
	url, via, _ := journalAddress(cfg)
	switch {
	case errors.Is(nc.LastError(), nats.ErrPermissionViolation):
		return fmt.Errorf("the journal at %s (%s) does not let this user read the stream %s (CONNECTOR_JOURNAL_STREAM; the user: NATS_USER, NATS_CREDS, or the embedded server's): %w", redactURL(url), via, cfg.Journal.Stream, nc.LastError())
	case errors.Is(err, jetstream.ErrStreamNotFound):
		return fmt.Errorf("the journal stream %s (CONNECTOR_JOURNAL_STREAM) is not on %s (%s): %w", cfg.Journal.Stream, redactURL(url), via, err)
	case errors.Is(err, jetstream.ErrJetStreamNotEnabled), errors.Is(err, jetstream.ErrJetStreamNotEnabledForAccount):
		return fmt.Errorf("%s (%s) has no JetStream: it is not the journal's NATS: %w", redactURL(url), via, err)
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, nats.ErrTimeout), !nc.IsConnected():
		return unreachable("the journal", redactURL(url), via, err)
	}
	return err
}

// checkStream asks for the journal stream within dialTimeout, so that a
// stream that is not there, or that the user may not read, fails at once
// rather than in a consumer that waits for it.
func checkStream(ctx context.Context, nc *nats.Conn, stream string) error {
	ctx, cancel := context.WithTimeout(ctx, dialTimeout)
	defer cancel()
	js, err := jetstream.New(nc)
	if err != nil {
		return err
	}
	_, err = js.Stream(ctx, stream)
	return err
}
