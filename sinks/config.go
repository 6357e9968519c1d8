package sinks

import (
	"errors"
	"regexp"
	"time"

	connector "github.com/agentphone-connector/connector"
	"github.com/agentphone-connector/connector/lease"
)

// Config is what users set for the delivery machinery every sink shares:
// retries, timeouts and the dead-letter stream.
type Config struct {
	RetryMin     time.Duration `env:"CONNECTOR_SINK_RETRY_MIN, default=250ms" help:"first wait before a failed sink write is retried; doubles on each failure up to CONNECTOR_SINK_RETRY_MAX, with jitter"`
	RetryMax     time.Duration `env:"CONNECTOR_SINK_RETRY_MAX, default=30s" help:"longest wait between two retries of a failing sink"`
	WriteTimeout time.Duration `env:"CONNECTOR_SINK_WRITE_TIMEOUT, default=30s" help:"how long one batch write to a sink's target may take before it counts as failed"`
	AckWait      time.Duration `env:"CONNECTOR_SINK_ACK_WAIT, default=2m" help:"how long the journal waits for a sink's ack before delivering its events again; the sink drops such redeliveries of what it holds; at least twice CONNECTOR_SINK_WRITE_TIMEOUT"`

	DeadLetter DeadLetterConfig
	Lease      LeaseConfig
}

// LeaseConfig places the leases through which replicas decide which of them
// delivers each sink (see Runner).
type LeaseConfig struct {
	Bucket string        `env:"CONNECTOR_SINK_LEASE_BUCKET, default=AGENTPHONE_SINK_LEASES" help:"JetStream key-value bucket holding one lease per sink: the replica that delivers it"`
	TTL    time.Duration `env:"CONNECTOR_SINK_LEASE_TTL, default=30s" help:"how long a sink's lease outlives its last renewal: another replica takes over a holder that crashed or lost NATS within this (plus a twentieth), one restarted under the same name at once; holders renew every fifth and stop writing a fifth before expiry; fixed when the bucket is created"`

	Replicas int  // bucket replicas; the wiring sets the journal's
	Memory   bool // keep the bucket in memory (tests only); the wiring sets the journal's
}

// DeadLetterConfig places the dead-letter stream. Its subjects must not
// overlap the journal's.
type DeadLetterConfig struct {
	Stream        string        `env:"CONNECTOR_DLQ_STREAM, default=AGENTPHONE_DLQ" help:"JetStream stream holding events a sink rejected for good"`
	SubjectPrefix string        `env:"CONNECTOR_DLQ_SUBJECT_PREFIX, default=agentphone-dlq" help:"dead events go to <prefix>.<sink>; must not be under the journal's subject prefix"`
	MaxAge        time.Duration `env:"CONNECTOR_DLQ_MAX_AGE, default=720h" help:"how long dead-lettered events are kept"`

	Replicas int  // stream replicas; the wiring sets the journal's
	Memory   bool // keep the stream in memory (tests only); the wiring sets the journal's
}

// Batching says how a sink reads the journal: up to Size events or Bytes
// bytes per batch, waiting at most Wait for a batch to fill. Each sink's own
// configuration provides it.
type Batching struct {
	Size  int           // events per batch, 1 to 10000
	Bytes int           // encoded journal bytes per batch; 0 for no limit
	Wait  time.Duration // longest wait for a batch to fill, at least 1ms
}

// Defaults for Batching.
const (
	DefaultBatchSize = 500
	DefaultBatchWait = 100 * time.Millisecond
	maxBatchSize     = 10000
)

var (
	streamName = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)
	subjectTok = regexp.MustCompile(`^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$`)
	sinkName   = regexp.MustCompile(`^[a-z][a-z0-9_-]{0,31}$`)
)

// Validate reports every problem of the configuration.
func (c Config) Validate() error {
	var errs []error
	if c.RetryMin <= 0 || c.RetryMax < c.RetryMin {
		errs = append(errs, connector.Invalid("CONNECTOR_SINK_RETRY_MIN, CONNECTOR_SINK_RETRY_MAX", "need 0 < min <= max"))
	}
	if c.WriteTimeout <= 0 {
		errs = append(errs, connector.Invalid("CONNECTOR_SINK_WRITE_TIMEOUT", "must be positive"))
	}
	if c.AckWait < 2*c.WriteTimeout {
		errs = append(errs, connector.Invalid("CONNECTOR_SINK_ACK_WAIT, CONNECTOR_SINK_WRITE_TIMEOUT", "the ack wait must be at least twice the write timeout; a slow write would be redelivered while in flight"))
	}
	return errors.Join(append(errs, c.DeadLetter.Validate(), c.Lease.Validate())...)
}

// Validate reports every problem of the lease configuration.
func (c LeaseConfig) Validate() error {
	var errs []error
	if !streamName.MatchString(c.Bucket) {
		errs = append(errs, connector.Invalid("CONNECTOR_SINK_LEASE_BUCKET", "not a bucket name (letters, digits, - and _)"))
	}
	if c.TTL < lease.MinTTL {
		errs = append(errs, connector.Invalid("CONNECTOR_SINK_LEASE_TTL", "must be at least %s", lease.MinTTL))
	}
	return errors.Join(errs...)
}

// Validate reports every problem of the dead-letter configuration.
func (c DeadLetterConfig) Validate() error {
	var errs []error
	if !streamName.MatchString(c.Stream) {
		errs = append(errs, connector.Invalid("CONNECTOR_DLQ_STREAM", "not a stream name (letters, digits, - and _)"))
	}
	if !subjectTok.MatchString(c.SubjectPrefix) {
		errs = append(errs, connector.Invalid("CONNECTOR_DLQ_SUBJECT_PREFIX", "not a subject prefix (tokens of letters, digits, - and _, separated by dots)"))
	}
	if c.MaxAge < time.Hour {
		errs = append(errs, connector.Invalid("CONNECTOR_DLQ_MAX_AGE", "must be at least 1h"))
	}
	return errors.Join(errs...)
}

// CheckSubjects reports an error when the dead-letter subjects overlap the
// journal's (prefix.>): dead events would be journaled again.
func (c DeadLetterConfig) CheckSubjects(journalPrefix string) error {
	if c.SubjectPrefix == journalPrefix || hasTokenPrefix(c.SubjectPrefix, journalPrefix) || hasTokenPrefix(journalPrefix, c.SubjectPrefix) {
		return connector.Invalid("CONNECTOR_DLQ_SUBJECT_PREFIX, CONNECTOR_JOURNAL_SUBJECT_PREFIX", "the dead letters' subjects overlap the journal's %s.>", journalPrefix)
	}
	return nil
}

func hasTokenPrefix(s, prefix string) bool {
	return len(s) > len(prefix) && s[:len(prefix)] == prefix && s[len(prefix)] == '.'
}

// Validate reports every problem of the batching of the sink whose
// variables start with varPrefix (e.g. "CONNECTOR_KAFKA_").
func (b Batching) Validate(varPrefix string) error {
	var errs []error
	if b.Size < 1 || b.Size > maxBatchSize {
		errs = append(errs, connector.Invalid(varPrefix+"BATCH_SIZE", "must be between 1 and %d", maxBatchSize))
	}
	if b.Bytes < 0 || b.Bytes > 0 && b.Bytes < 1024 {
		errs = append(errs, connector.Invalid(varPrefix+"BATCH_BYTES", "must be 0 (no limit) or at least 1024"))
	}
	if b.Wait < time.Millisecond {
		errs = append(errs, connector.Invalid(varPrefix+"BATCH_TIMEOUT", "must be at least 1ms"))
	}
	return errors.Join(errs...)
}
