package journal

import (
	"errors"
	"regexp"
	"time"

	connector "github.com/agentphone-connector/connector"
)

// Config is what users set for the journal stream.
type Config struct {
	Stream        string        `env:"CONNECTOR_JOURNAL_STREAM, default=AGENTPHONE" help:"JetStream stream name"`
	SubjectPrefix string        `env:"CONNECTOR_JOURNAL_SUBJECT_PREFIX, default=agentphone" help:"events go to <prefix>.<kind>.<call or conversation>.<channel>.<agent>"`
	Replicas      int           `env:"CONNECTOR_JOURNAL_REPLICAS, default=1" help:"stream replicas on a NATS cluster (1, 3 or 5)"`
	MaxAge        time.Duration `env:"CONNECTOR_JOURNAL_MAX_AGE, default=168h" help:"how long events stay; at least the dedupe window"`
	MaxBytes      int64         `env:"CONNECTOR_JOURNAL_MAX_BYTES, default=-1" help:"size limit, -1 for none; when full, new events are refused (503), never old ones dropped"`
	DedupeWindow  time.Duration `env:"CONNECTOR_DEDUPE_WINDOW, default=72h" help:"how long an event ID is remembered"`
	AppendTimeout time.Duration `env:"CONNECTOR_JOURNAL_APPEND_TIMEOUT, default=5s" help:"how long an append may wait for the journal before the request is answered 503"`
	Memory        bool          `env:"CONNECTOR_JOURNAL_MEMORY, default=false" help:"keep the stream in memory (tests and benchmarks only: not durable)"`
}

var (
	streamName = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)
	subjectTok = regexp.MustCompile(`^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$`)
)

// Validate reports every problem of the configuration.
func (c Config) Validate() error {
	var errs []error
	if !streamName.MatchString(c.Stream) {
		errs = append(errs, connector.Invalid("CONNECTOR_JOURNAL_STREAM", "not a stream name (letters, digits, - and _)"))
	}
	if !subjectTok.MatchString(c.SubjectPrefix) {
		errs = append(errs, connector.Invalid("CONNECTOR_JOURNAL_SUBJECT_PREFIX", "not a subject prefix (tokens of letters, digits, - and _, separated by dots)"))
	}
	if c.Replicas != 1 && c.Replicas != 3 && c.Replicas != 5 {
		errs = append(errs, connector.Invalid("CONNECTOR_JOURNAL_REPLICAS", "must be 1, 3 or 5"))
	}
	if c.DedupeWindow < time.Minute {
		errs = append(errs, connector.Invalid("CONNECTOR_DEDUPE_WINDOW", "must be at least 1m (AgentPhone retries for about 21h)"))
	}
	if c.MaxAge < c.DedupeWindow {
		errs = append(errs, connector.Invalid("CONNECTOR_JOURNAL_MAX_AGE, CONNECTOR_DEDUPE_WINDOW", "the max age must be at least the dedupe window: events must outlive their dedupe keys"))
	}
	if c.MaxBytes == 0 || c.MaxBytes < -1 {
		errs = append(errs, connector.Invalid("CONNECTOR_JOURNAL_MAX_BYTES", "must be positive or -1"))
	}
	if c.AppendTimeout <= 0 {
		errs = append(errs, connector.Invalid("CONNECTOR_JOURNAL_APPEND_TIMEOUT", "must be positive"))
	}
	return errors.Join(errs...)
}
