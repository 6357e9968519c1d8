package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/sethvargo/go-envconfig"

	connector "github.com/agentphone-connector/connector"
	"github.com/agentphone-connector/connector/dedupe"
	"github.com/agentphone-connector/connector/journal"
	"github.com/agentphone-connector/connector/natsserver"
	"github.com/agentphone-connector/connector/sinks"
	"github.com/agentphone-connector/connector/sinks/bigquerysink"
	"github.com/agentphone-connector/connector/sinks/kafkasink"
	"github.com/agentphone-connector/connector/sinks/natssink"
	"github.com/agentphone-connector/connector/sources/agentphoneapi"
	"github.com/agentphone-connector/connector/sources/backfill"
	"github.com/agentphone-connector/connector/sources/transcript"
	"github.com/agentphone-connector/connector/sources/webhook"
)

// Config is everything a user sets, all through environment variables.
// `connector config` lists them from these tags.
type Config struct {
	HTTPAddr        string           `env:"CONNECTOR_HTTP_ADDR, default=:8080" help:"address of the webhook listener"`
	AdminAddr       string           `env:"CONNECTOR_ADMIN_ADDR, default=:9090" help:"address of /healthz, /readyz and /metrics"`
	DataDir         string           `env:"CONNECTOR_DATA_DIR, default=./data" help:"where the embedded NATS server keeps the journal"`
	NATSURL         string           `env:"NATS_URL" help:"NATS server or cluster holding the journal (comma-separated URLs); unset runs an embedded server"`
	NATSCreds       string           `env:"NATS_CREDS" help:"credentials file (JWT) for NATS_URL"`
	NATSUser        string           `env:"NATS_USER" help:"user for NATS_URL, with NATS_PASSWORD; for tail, replay and backfill on this host's embedded server, a user instead of the data directory's password files"`
	NATSPassword    connector.Secret `env:"NATS_PASSWORD" help:"password of NATS_USER"`
	LogLevel        string           `env:"CONNECTOR_LOG_LEVEL, default=info" help:"debug, info, warn or error"`
	ShutdownTimeout time.Duration    `env:"CONNECTOR_SHUTDOWN_TIMEOUT, default=30s" help:"how long SIGTERM may take in all: requests in flight, the sinks' batches in hand (cut short and delivered again by the next holder), then closing the journal"`
	ReplicaName     string           `env:"CONNECTOR_REPLICA_NAME" help:"this replica's name in the leases of sinks, transcript calls and backfill; unset is the host name (a pod's name); unique among running replicas, kept across a restart so the replica takes its leases back at once"`
	Pprof           bool             `env:"CONNECTOR_PPROF, default=false" help:"serve Go's profiler at /debug/pprof/ on the admin listener"`

	// The sources that call AgentPhone, and dedupe across sources.
	API        agentphoneapi.Config
	Transcript transcript.Config
	Backfill   backfill.Config

	Webhook webhook.Config
	Journal journal.Config
	Dedupe  dedupe.Config
	NATS    natsserver.Config

	Sinks    sinks.Config
	Kafka    kafkasink.Config
	NATSSink natssink.Config
	BigQuery bigquerysink.Config
}

// loadConfig reads the configuration from lookup and validates it. Every
// problem is reported at once, in a *configError: values that cannot be
// read as their type, values out of range, settings in conflict. Defaults
// that follow other settings (derivedDefaults) are derived first.
func loadConfig(ctx context.Context, lookup envconfig.Lookuper) (Config, error) {
	bad, errs := unparsable(ctx, lookup)
	var c Config
	if err := envconfig.ProcessWith(ctx, &envconfig.Config{Target: &c, Lookuper: without(lookup, bad)}); err != nil {
		return c, fmt.Errorf("read configuration: %w", err)
	}
	applyDerived(&c, lookup)
	c.Webhook.LoadRouteSecrets(lookup.Lookup)
	c.NATS.StoreDir = c.DataDir
	c.NATS.Access = natsAccess(c)
	for _, p := range problems(errors.Join(c.API.LoadKeyFile(), c.Validate())) {
		if !involves(p, bad) { // a value that could not be read is reported once
			errs = append(errs, p)
		}
	}
	if len(errs) > 0 {
		return c, &configError{problems: errs, lookup: lookup}
	}
	return c, nil
}

// Embedded reports whether the connector runs its own NATS server.
func (c Config) Embedded() bool { return c.NATSURL == "" }

// Validate reports every problem of the configuration.
func (c Config) Validate() error {
	errs := []error{c.Webhook.Validate(), c.Journal.Validate(), c.Dedupe.Validate(), c.validateNATSAuth()}
	errs = append(errs, c.Sinks.Validate(), c.Sinks.DeadLetter.CheckSubjects(c.Journal.SubjectPrefix),
		c.Kafka.Validate(), c.NATSSink.Validate(), c.BigQuery.Validate(), c.checkSinkLoop(), c.checkRoutes())
	for _, a := range []struct{ name, addr string }{{"CONNECTOR_HTTP_ADDR", c.HTTPAddr}, {"CONNECTOR_ADMIN_ADDR", c.AdminAddr}} {
		if _, _, err := net.SplitHostPort(a.addr); err != nil {
			errs = append(errs, connector.Invalid(a.name, "not host:port or :port (%v)", err))
		}
	}
	if c.HTTPAddr == c.AdminAddr && !strings.HasSuffix(c.HTTPAddr, ":0") {
		errs = append(errs, connector.Invalid("CONNECTOR_ADMIN_ADDR, CONNECTOR_HTTP_ADDR", "the admin listener needs an address of its own"))
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		errs = append(errs, connector.Invalid("CONNECTOR_LOG_LEVEL", "must be debug, info, warn or error"))
	}
	if c.ShutdownTimeout < time.Second {
		errs = append(errs, connector.Invalid("CONNECTOR_SHUTDOWN_TIMEOUT", "must be at least 1s"))
	}
	if c.Embedded() {
		errs = append(errs, c.validateEmbedded())
	}
	errs = append(errs, c.validatePullSources())
	return errors.Join(errs...)
}

// validateEmbedded reports the problems of running the embedded server.
func (c Config) validateEmbedded() error {
	errs := []error{c.NATS.Validate()}
	if c.Journal.Replicas != 1 {
		errs = append(errs, connector.Invalid("CONNECTOR_JOURNAL_REPLICAS", "the embedded server is a single node; set NATS_URL for replicas"))
	}
	if need := minPayload(c.Webhook.MaxBodyBytes); int64(c.NATS.MaxPayload) < need {
		errs = append(errs, connector.Invalid("CONNECTOR_MAX_BODY_BYTES, CONNECTOR_NATS_MAX_PAYLOAD",
			"an event of the largest body needs a NATS max payload of %d bytes (twice the body and 64 KiB), the embedded server takes at most %d", need, maxEmbeddedPayload))
	}
	return errors.Join(errs...)
}

// minPayload is the smallest NATS max_payload that holds an event for a body
// of the given limit: the raw body, normalized data of about its size, and
// the envelope.
func minPayload(bodyLimit int64) int64 { return 2*bodyLimit + 64<<10 }
