package kafkasink

import (
	"errors"
	"net"
	"regexp"
	"slices"
	"strings"
	"time"

	connector "github.com/agentphone-connector/connector"
	"github.com/agentphone-connector/connector/sinks"
)

// Config is what users set for the Kafka sink. The sink is enabled when
// Brokers is set.
type Config struct {
	Brokers      []string      `env:"CONNECTOR_KAFKA_BROKERS" help:"bootstrap brokers, comma separated host:port; setting it enables the Kafka sink"`
	Topic        string        `env:"CONNECTOR_KAFKA_TOPIC, default=agentphone.events" help:"topic of every event; {kind} in the name gives one topic per event family, e.g. agentphone.{kind}"`
	Mode         string        `env:"CONNECTOR_KAFKA_MODE, default=binary" help:"binary: CloudEvents attributes as ce_ headers, the data as value; structured: the whole envelope as value (application/cloudevents+json)"`
	Compression  string        `env:"CONNECTOR_KAFKA_COMPRESSION, default=zstd" help:"zstd, snappy, lz4, gzip or none"`
	BatchSize    int           `env:"CONNECTOR_KAFKA_BATCH_SIZE, default=500" help:"most events per batch read from the journal and per produce request"`
	BatchBytes   int           `env:"CONNECTOR_KAFKA_BATCH_BYTES, default=1000000" help:"most bytes per produce request and partition; keep it at or under the broker's message.max.bytes; a larger single event is dead-lettered"`
	BatchTimeout time.Duration `env:"CONNECTOR_KAFKA_BATCH_TIMEOUT, default=50ms" help:"longest wait for a batch to fill while the journal is quiet"`
	Timeout      time.Duration `env:"CONNECTOR_KAFKA_REQUEST_TIMEOUT, default=10s" help:"timeout of one request to a broker"`
	ClientID     string        `env:"CONNECTOR_KAFKA_CLIENT_ID, default=agentphone-connector" help:"client.id the brokers see"`
	Kinds        []string      `env:"CONNECTOR_KAFKA_KINDS" help:"event kinds the Kafka sink receives, comma-separated kind tokens (message, call_ended, reaction, transcript_turn, contact_shared, unknown, invalid, delivery_failed); unset for every event; the journal filters the others out"`

	CreateTopics      bool `env:"CONNECTOR_KAFKA_CREATE_TOPICS, default=false" help:"create missing topics at start; when false, events for a missing topic are dead-lettered"`
	Partitions        int  `env:"CONNECTOR_KAFKA_PARTITIONS, default=6" help:"partitions of a created topic"`
	ReplicationFactor int  `env:"CONNECTOR_KAFKA_REPLICATION_FACTOR, default=-1" help:"replication factor of a created topic; -1 for the broker's default"`

	TLS     bool   `env:"CONNECTOR_KAFKA_TLS, default=false" help:"connect with TLS (implied by the other TLS settings)"`
	TLSCA   string `env:"CONNECTOR_KAFKA_TLS_CA" help:"PEM file of the CA that signs the brokers' certificates; unset for the system roots"`
	TLSCert string `env:"CONNECTOR_KAFKA_TLS_CERT" help:"PEM client certificate for mutual TLS, with CONNECTOR_KAFKA_TLS_KEY"`
	TLSKey  string `env:"CONNECTOR_KAFKA_TLS_KEY" help:"PEM key of CONNECTOR_KAFKA_TLS_CERT"`

	SASLMechanism string       `env:"CONNECTOR_KAFKA_SASL_MECHANISM" help:"PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512; unset for no SASL"`
	SASLUsername  string       `env:"CONNECTOR_KAFKA_SASL_USERNAME" help:"SASL user name"`
	SASLPassword  sinks.Secret `env:"CONNECTOR_KAFKA_SASL_PASSWORD" secret:"true" help:"SASL password"`
}

// Modes of the CloudEvents Kafka binding.
const (
	ModeBinary     = "binary"
	ModeStructured = "structured"
)

// KindToken is the placeholder of Config.Topic replaced by the event's kind.
const KindToken = "{kind}"

var (
	topicName   = regexp.MustCompile(`^[A-Za-z0-9._-]{1,249}$`)
	compression = map[string]bool{"zstd": true, "snappy": true, "lz4": true, "gzip": true, "none": true}
	mechanisms  = map[string]bool{"": true, "PLAIN": true, "SCRAM-SHA-256": true, "SCRAM-SHA-512": true}
)

// Enabled reports whether the Kafka sink is configured.
func (c Config) Enabled() bool { return len(c.Brokers) > 0 }

// Batching is how the sink reads the journal.
func (c Config) Batching() sinks.Batching {
	return sinks.Batching{Size: c.BatchSize, Wait: c.BatchTimeout}
}

// Route is which events the sink receives.
func (c Config) Route() sinks.Route { return sinks.Route{Kinds: c.Kinds} }

// Topics returns every topic the sink may write to: the one topic, or one per
// event family of the catalogue (of the sink's kinds, when it has some).
func (c Config) Topics() []string {
	if !strings.Contains(c.Topic, KindToken) {
		return []string{c.Topic}
	}
	var out []string
	for _, k := range connector.Kinds() {
		if len(c.Kinds) == 0 || slices.Contains(c.Kinds, k.Token) {
			out = append(out, strings.ReplaceAll(c.Topic, KindToken, k.Token))
		}
	}
	return out
}

// Validate reports every problem of an enabled configuration; a disabled one
// is valid.
func (c Config) Validate() error {
	if !c.Enabled() {
		return nil
	}
	var errs []error
	for _, b := range c.Brokers {
		if _, _, err := net.SplitHostPort(strings.TrimSpace(b)); err != nil {
			errs = append(errs, connector.Invalid("CONNECTOR_KAFKA_BROKERS", "%q is not host:port (%v)", b, err))
		}
	}
	for _, t := range c.Topics() {
		if !topicName.MatchString(t) || t == "." || t == ".." {
			errs = append(errs, connector.Invalid("CONNECTOR_KAFKA_TOPIC", "%q is not a topic name (letters, digits, ., _ and -)", t))
			break
		}
	}
	if c.Mode != ModeBinary && c.Mode != ModeStructured {
		errs = append(errs, connector.Invalid("CONNECTOR_KAFKA_MODE", "must be binary or structured"))
	}
	if !compression[c.Compression] {
		errs = append(errs, connector.Invalid("CONNECTOR_KAFKA_COMPRESSION", "must be zstd, snappy, lz4, gzip or none"))
	}
	if c.BatchBytes < 1024 {
		errs = append(errs, connector.Invalid("CONNECTOR_KAFKA_BATCH_BYTES", "must be at least 1024"))
	}
	if c.Timeout <= 0 {
		errs = append(errs, connector.Invalid("CONNECTOR_KAFKA_REQUEST_TIMEOUT", "must be positive"))
	}
	if c.CreateTopics && (c.Partitions < 1 || c.ReplicationFactor == 0 || c.ReplicationFactor < -1) {
		errs = append(errs, connector.Invalid("CONNECTOR_KAFKA_PARTITIONS, CONNECTOR_KAFKA_REPLICATION_FACTOR", "need partitions >= 1 and a replication factor >= 1 or -1"))
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		errs = append(errs, connector.Invalid("CONNECTOR_KAFKA_TLS_CERT, CONNECTOR_KAFKA_TLS_KEY", "set both or neither"))
	}
	if !mechanisms[c.SASLMechanism] {
		errs = append(errs, connector.Invalid("CONNECTOR_KAFKA_SASL_MECHANISM", "must be PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512"))
	} else if c.SASLMechanism != "" && (c.SASLUsername == "" || c.SASLPassword == "") {
		errs = append(errs, connector.Invalid("CONNECTOR_KAFKA_SASL_USERNAME, CONNECTOR_KAFKA_SASL_PASSWORD", "required with a SASL mechanism"))
	}
	errs = append(errs, c.Route().Validate("CONNECTOR_KAFKA_KINDS", ""))
	return errors.Join(append(errs, c.Batching().Validate("CONNECTOR_KAFKA_"))...)
}

func (c Config) usesTLS() bool { return c.TLS || c.TLSCA != "" || c.TLSCert != "" }
