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
	ShutdownTimeout time.Duration    `env:"CONNECTOR_SHUTDOWN_TIMEOUT, default=30s" help:"how long SIGTERM waits for requests in flight before closing"`
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

// loadConfig reads the configuration from lookup and validates it, reporting
// every problem at once.
func loadConfig(ctx context.Context, lookup envconfig.Lookuper) (Config, error) {
	var c Config
	if err := envconfig.ProcessWith(ctx, &envconfig.Config{Target: &c, Lookuper: lookup}); err != nil {
		return c, fmt.Errorf("invalid configuration:\n  - %w", err)
	}
	c.Webhook.LoadRouteSecrets(lookup.Lookup)
	c.NATS.StoreDir = c.DataDir
	c.NATS.Access = natsAccess(c)
	if err := errors.Join(c.API.LoadKeyFile(), c.Validate()); err != nil {
		return c, fmt.Errorf("invalid configuration:\n%s", bullets(err))
	}
	return c, nil
}

// Embedded reports whether the connector runs its own NATS server.
func (c Config) Embedded() bool { return c.NATSURL == "" }

// Validate reports every problem of the configuration.
func (c Config) Validate() error {
	errs := []error{c.Webhook.Validate(), c.Journal.Validate(), c.Dedupe.Validate(), c.validateNATSAuth()}
	errs = append(errs, c.Sinks.Validate(), c.Sinks.DeadLetter.CheckSubjects(c.Journal.SubjectPrefix),
		c.Kafka.Validate(), c.NATSSink.Validate(), c.BigQuery.Validate(), c.checkSinkLoop())
	for _, a := range []struct{ name, addr string }{{"CONNECTOR_HTTP_ADDR", c.HTTPAddr}, {"CONNECTOR_ADMIN_ADDR", c.AdminAddr}} {
		if _, _, err := net.SplitHostPort(a.addr); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", a.name, err))
		}
	}
	if c.HTTPAddr == c.AdminAddr && !strings.HasSuffix(c.HTTPAddr, ":0") {
		errs = append(errs, errors.New("CONNECTOR_ADMIN_ADDR: must differ from CONNECTOR_HTTP_ADDR"))
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		errs = append(errs, fmt.Errorf("CONNECTOR_LOG_LEVEL: %q is not debug, info, warn or error", c.LogLevel))
	}
	if c.ShutdownTimeout < time.Second {
		errs = append(errs, errors.New("CONNECTOR_SHUTDOWN_TIMEOUT: must be at least 1s"))
	}
	if c.Embedded() {
		errs = append(errs, c.NATS.Validate())
		if c.Journal.Replicas != 1 {
			errs = append(errs, errors.New("CONNECTOR_JOURNAL_REPLICAS: the embedded server is a single node; set NATS_URL for replicas"))
		}
		if c.DataDir == "" {
			errs = append(errs, errors.New("CONNECTOR_DATA_DIR: must be set when NATS_URL is not"))
		}
	}
	errs = append(errs, c.validatePullSources())
	return errors.Join(errs...)
}

// minPayload is the smallest NATS max_payload that holds an event for a body
// of the given limit: the raw body, normalized data of about its size, and
// the envelope.
func minPayload(bodyLimit int64) int64 { return 2*bodyLimit + 64<<10 }

// bullets formats a joined error as one problem per line.
func bullets(err error) string {
	var out string
	var walk func(error)
	walk = func(e error) {
		if j, ok := e.(interface{ Unwrap() []error }); ok {
			for _, x := range j.Unwrap() {
				walk(x)
			}
			return
		}
		out += "  - " + e.Error() + "\n"
	}
	walk(err)
	return out[:len(out)-1]
}
