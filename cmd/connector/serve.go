package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/sethvargo/go-envconfig"
	"golang.org/x/time/rate"

	connector "github.com/agentphone-connector/connector"
	"github.com/agentphone-connector/connector/dedupe"
	"github.com/agentphone-connector/connector/journal"
	"github.com/agentphone-connector/connector/natsserver"
	"github.com/agentphone-connector/connector/sources/webhook"
)

func runServe(ctx context.Context, env envconfig.Lookuper, stdout, stderr io.Writer) error {
	cfg, err := loadConfig(ctx, env)
	if err != nil {
		return err
	}
	log := newLogger(stderr, cfg.LogLevel)
	if len(cfg.Webhook.Secrets) == 0 && !cfg.Webhook.HeldRoutes[webhook.ProjectRoute] {
		log.Warn("AGENTPHONE_WEBHOOK_SECRET is not set: the project route answers 503 until it is")
	}
	for r := range cfg.Webhook.HeldRoutes {
		log.Warn("route secret is empty: the route answers 503 until it is set", "route", r)
	}
	return serve(ctx, cfg, log)
}

// serve runs the connector until ctx is cancelled. Start-up goes downstream
// first (NATS, journal, sinks, then the listeners); shutdown goes upstream
// first (stop taking webhooks, finish those in flight, stop the sinks, then
// close the journal).
func serve(ctx context.Context, cfg Config, log *slog.Logger) (err error) {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

	// Start-up may wait for NATS (a cluster still forming, a large store
	// recovering), but no longer than CONNECTOR_NATS_START_TIMEOUT.
	startCtx, started := context.WithTimeout(ctx, cfg.NATS.StartWait)
	defer started()
	nc, embedded, err := connectJournal(startCtx, cfg, log)
	if err != nil {
		return err
	}
	budget := newShutdownBudget(cfg.ShutdownTimeout)
	defer func() { err = errors.Join(err, closeJournal(budget.last(), nc, embedded, log)) }()

	j, err := journal.Open(startCtx, nc, cfg.Journal, journal.Settings{Logger: log, Registerer: reg})
	if err != nil && startCtx.Err() != nil {
		err = fmt.Errorf("%w (waited CONNECTOR_NATS_START_TIMEOUT=%s)", err, cfg.NATS.StartWait)
	}
	if err != nil {
		return err
	}
	started()
	guard, err := dedupe.New(j, cfg.Journal.DedupeWindow, cfg.Dedupe, dedupe.Settings{Registerer: reg})
	if err != nil {
		return err
	}
	pull, err := startPullSources(ctx, cfg, nc, guard, j, log, reg)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, pull.close(budget.left())) }()
	wm, err := webhook.NewMetrics(reg)
	if err != nil {
		return err
	}
	h := webhook.NewHandler(cfg.Webhook, guard, webhook.Settings{Logger: log, Metrics: wm})

	// Sinks read the journal; they stop before it closes (defers run in reverse).
	sinkRunner, err := startSinks(ctx, cfg, nc, reg, log)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, stopSinks(sinkRunner, budget.left(), log)) }()

	page, err := startStatusPage(ctx, cfg, nc, reg, sinkRunner, log)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, closeWithin(page.Close, budget.left())) }()
	admin, err := startAdmin(cfg.AdminAddr, cfg.Pprof, reg, allReady{j, h}, log, adminRoute{"GET /sinks", sinkRunner}, adminRoute{"GET /{$}", page})
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, admin.shutdown(budget.left())) }()
	srv, err := webhook.Listen(cfg.HTTPAddr, h, cfg.Webhook, cfg.Journal.AppendTimeout, log)
	if err != nil {
		return err
	}
	log.Info("connector ready", "webhooks", srv.Addr(), "admin", admin.addr(), "nats", natsURL(cfg, embedded))

	<-ctx.Done()
	log.Info("shutting down: no new webhooks, finishing those in flight")
	admin.draining()
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), budget.left())
	defer cancel()
	return srv.Shutdown(sctx)
}

// closeWithin calls close with a context that ends after timeout.
func closeWithin(close func(context.Context) error, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	return close(ctx)
}

// connectJournal connects to NATS_URL, or starts the embedded server and
// connects to it in process.
func connectJournal(ctx context.Context, cfg Config, log *slog.Logger) (*nats.Conn, *natsserver.Server, error) {
	asyncErrs := &rate.Sometimes{Interval: 10 * time.Second}
	opts := []nats.Option{
		nats.Name("agentphone-connector"),
		nats.MaxReconnects(-1),
		// Fail publishes at once while disconnected: the webhook is answered
		// 503 and retried by AgentPhone, rather than buffered in memory.
		nats.ReconnectBufSize(-1),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			if err != nil {
				log.Warn("nats disconnected", "error", err)
			}
		}),
		nats.ReconnectHandler(func(c *nats.Conn) { log.Info("nats reconnected", "url", c.ConnectedUrlRedacted()) }),
		// A request the server refuses (a permissions violation) gets no
		// answer, only this: say why it times out.
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
			asyncErrs.Do(func() { log.Warn("nats error", "error", err) })
		}),
	}
	if !cfg.Embedded() {
		auth, err := natsAuth(cfg, "")
		if err != nil {
			return nil, nil, err
		}
		// Replies under the connector's own prefix: subscribers may read
		// _INBOX.> only (deploy/nats-auth.conf), not the connector's answers.
		opts = append(append(opts, auth...), nats.CustomInboxPrefix(natsserver.InboxPrefix))
		nc, err := dialNATS(ctx, cfg.NATSURL, opts, log)
		if err != nil {
			return nil, nil, err
		}
		if err := checkPayload(nc, cfg); err != nil {
			nc.Close()
			return nil, nil, err
		}
		return nc, nil, nil
	}
	ns, err := natsserver.Start(ctx, cfg.NATS, log)
	if err != nil {
		return nil, nil, err
	}
	nc, err := ns.Connect(opts...)
	if err == nil {
		err = checkPayload(nc, cfg)
	}
	if err != nil {
		if nc != nil {
			nc.Close()
		}
		_ = ns.Shutdown(context.WithoutCancel(ctx))
		return nil, nil, fmt.Errorf("connect embedded nats: %w", err)
	}
	return nc, ns, nil
}

// dialBackoff paces the attempts to reach NATS_URL at start-up.
var dialBackoff = connector.Backoff{Min: 100 * time.Millisecond, Max: 2 * time.Second}

// dialNATS connects to url, trying again while no server of it can be
// reached (a cluster starting with the connector), until ctx ends. A
// refusal of the credentials is final.
func dialNATS(ctx context.Context, url string, opts []nats.Option, log *slog.Logger) (*nats.Conn, error) {
	for attempt := 0; ; attempt++ {
		nc, err := nats.Connect(url, opts...)
		if err == nil {
			return nc, nil
		}
		if errors.Is(err, nats.ErrAuthorization) || errors.Is(err, nats.ErrAuthExpired) || errors.Is(err, nats.ErrAuthRevoked) {
			return nil, fmt.Errorf("connect %s: %w", redactURL(url), err)
		}
		if attempt == 0 {
			log.Warn("cannot reach NATS yet; trying again until CONNECTOR_NATS_START_TIMEOUT", "url", redactURL(url), "error", err)
		}
		if serr := connector.Sleep(ctx, dialBackoff.Delay(attempt)); serr != nil {
			return nil, fmt.Errorf("connect %s: %w (waited up to CONNECTOR_NATS_START_TIMEOUT)", redactURL(url), err)
		}
	}
}

// natsURL is where subscribers reach the journal, for the log.
func natsURL(cfg Config, ns *natsserver.Server) string {
	if ns != nil {
		return ns.ClientURL()
	}
	return redactURL(cfg.NATSURL)
}

// checkPayload refuses a NATS server whose messages cannot hold the largest
// event a webhook may produce: such events could never be journaled.
func checkPayload(nc *nats.Conn, cfg Config) error {
	if need := minPayload(cfg.Webhook.MaxBodyBytes); nc.MaxPayload() < need {
		return fmt.Errorf("nats max_payload is %d bytes; a %d-byte body needs %d: raise max_payload or lower CONNECTOR_MAX_BODY_BYTES",
			nc.MaxPayload(), cfg.Webhook.MaxBodyBytes, need)
	}
	return nil
}

func closeJournal(timeout time.Duration, nc *nats.Conn, ns *natsserver.Server, log *slog.Logger) error {
	if err := nc.FlushTimeout(timeout); err != nil && !errors.Is(err, nats.ErrConnectionClosed) {
		log.Warn("nats flush on shutdown", "error", err)
	}
	nc.Close()
	if ns == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	return ns.Shutdown(ctx)
}

// allReady is ready when each of its parts is, reporting the first that is not.
type allReady []readiness

func (a allReady) Ready(ctx context.Context) error {
	for _, r := range a {
		if err := r.Ready(ctx); err != nil {
			return err
		}
	}
	return nil
}
