package natssink

import (
	"errors"
	"time"

	"github.com/agentphone-connector/connector/sinks"

	connector "github.com/agentphone-connector/connector"
)

// Config is what users set for the NATS sink, which publishes to a NATS
// deployment other than the journal's. The sink is enabled when URL is set.
type Config struct {
	URL     string `env:"CONNECTOR_NATS_SINK_URL" help:"NATS server or cluster to publish events to, comma-separated URLs (not the journal's); setting it enables the NATS sink"`
	Creds   string `env:"CONNECTOR_NATS_SINK_CREDS" help:"credentials file for CONNECTOR_NATS_SINK_URL"`
	TLSCA   string `env:"CONNECTOR_NATS_SINK_TLS_CA" help:"PEM file of the CA that signs the servers' certificates; unset for the system roots"`
	TLSCert string `env:"CONNECTOR_NATS_SINK_TLS_CERT" help:"PEM client certificate for mutual TLS, with CONNECTOR_NATS_SINK_TLS_KEY"`
	TLSKey  string `env:"CONNECTOR_NATS_SINK_TLS_KEY" help:"PEM key of CONNECTOR_NATS_SINK_TLS_CERT"`

	Mode    string `env:"CONNECTOR_NATS_SINK_MODE, default=jetstream" help:"jetstream: to a stream, Nats-Msg-Id = event ID, each ack awaited (re-drives are deduplicated there); core: plain messages for subscribers, flushed but unacknowledged (at most once)"`
	Subject string `env:"CONNECTOR_NATS_SINK_SUBJECT, default=agentphone.{kind}.{subject}.{channel}.{agent}" help:"subject template; {kind} {type} {channel} {agent} {call} {conversation} {subject} {direction} each become one token (_ when empty); the default is the journal's own subjects"`
	Stream  string `env:"CONNECTOR_NATS_SINK_STREAM" help:"jetstream mode: the stream that must take the events (Nats-Expected-Stream); unset for whichever binds the subject"`

	Kinds  []string `env:"CONNECTOR_NATS_SINK_KINDS" help:"event kinds the NATS sink receives, comma-separated kind tokens (message, call_ended, reaction, transcript_turn, contact_shared, unknown, invalid, delivery_failed); unset for every event; the journal filters the others out"`
	Filter []string `env:"CONNECTOR_NATS_SINK_FILTER" help:"journal subjects the NATS sink receives besides its kinds, comma-separated subject filters under CONNECTOR_JOURNAL_SUBJECT_PREFIX (e.g. agentphone.message.*.whatsapp.>); unset with no kinds for every event; no two may overlap"`

	BatchSize    int           `env:"CONNECTOR_NATS_SINK_BATCH_SIZE, default=500" help:"most events per batch read from the journal and published together"`
	BatchTimeout time.Duration `env:"CONNECTOR_NATS_SINK_BATCH_TIMEOUT, default=50ms" help:"longest wait for a batch to fill while the journal is quiet"`
	Timeout      time.Duration `env:"CONNECTOR_NATS_SINK_TIMEOUT, default=10s" help:"connect timeout, and how long a publish waits for the stream's ack"`
}

// Modes of the NATS sink.
const (
	ModeJetStream = "jetstream"
	ModeCore      = "core"
)

// Enabled reports whether the NATS sink is configured.
func (c Config) Enabled() bool { return c.URL != "" }

// Batching is how the sink reads the journal.
func (c Config) Batching() sinks.Batching {
	return sinks.Batching{Size: c.BatchSize, Wait: c.BatchTimeout}
}

// Route is which events the sink receives.
func (c Config) Route() sinks.Route { return sinks.Route{Kinds: c.Kinds, Subjects: c.Filter} }

// Validate reports every problem of an enabled configuration; a disabled one
// is valid.
func (c Config) Validate() error {
	if !c.Enabled() {
		return nil
	}
	var errs []error
	if c.Mode != ModeJetStream && c.Mode != ModeCore {
		errs = append(errs, connector.Invalid("CONNECTOR_NATS_SINK_MODE", "must be jetstream or core"))
	}
	if _, err := parseSubject(c.Subject); err != nil {
		errs = append(errs, connector.Invalid("CONNECTOR_NATS_SINK_SUBJECT", "%v", err))
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		errs = append(errs, connector.Invalid("CONNECTOR_NATS_SINK_TLS_CERT, CONNECTOR_NATS_SINK_TLS_KEY", "set both or neither"))
	}
	if c.Timeout <= 0 {
		errs = append(errs, connector.Invalid("CONNECTOR_NATS_SINK_TIMEOUT", "must be positive"))
	}
	errs = append(errs, c.Route().Validate("CONNECTOR_NATS_SINK_KINDS", "CONNECTOR_NATS_SINK_FILTER"))
	return errors.Join(append(errs, c.Batching().Validate("CONNECTOR_NATS_SINK_"))...)
}
