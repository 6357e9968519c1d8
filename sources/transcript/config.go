package transcript

import (
	"errors"
	"time"

	connector "github.com/agentphone-connector/connector"
)

// Config is what users set for the transcript source. The API URL and key
// are agentphoneapi.Config's.
type Config struct {
	Enabled      bool          `env:"AGENTPHONE_TRANSCRIPTS, default=false" help:"follow the transcript stream of every live call (needs AGENTPHONE_API_KEY)"`
	PollInterval time.Duration `env:"AGENTPHONE_TRANSCRIPT_POLL_INTERVAL, default=15s" help:"how often GET /v1/calls?status=in-progress looks for live calls (hosted-mode agents send no voice webhooks); 0 turns the poll off"`
	MaxStreams   int           `env:"AGENTPHONE_TRANSCRIPT_MAX_STREAMS, default=100" help:"transcript streams this replica follows at once; further calls are left to other replicas or the next poll"`
	Heartbeat    time.Duration `env:"AGENTPHONE_TRANSCRIPT_HEARTBEAT, default=15s" help:"the stream's heartbeat interval; a connection silent for three of them is dead and reopened"`
	RetryMin     time.Duration `env:"AGENTPHONE_TRANSCRIPT_RETRY_MIN, default=1s" help:"first wait before reopening a stream; doubled per failed attempt, with jitter"`
	RetryMax     time.Duration `env:"AGENTPHONE_TRANSCRIPT_RETRY_MAX, default=1m" help:"longest wait before reopening a stream"`
	MaxFailures  int           `env:"AGENTPHONE_TRANSCRIPT_MAX_FAILURES, default=10" help:"connections in a row that bring nothing new before a call is left to the next discovery"`
	ClaimTTL     time.Duration `env:"AGENTPHONE_TRANSCRIPT_CLAIM_TTL, default=30s" help:"a replica's claim on a call lapses this long after its last renewal, so another replica takes over after a crash"`
}

// Validate reports every problem of the configuration.
func (c Config) Validate() error {
	var errs []error
	add := func(vars, rule string) { errs = append(errs, connector.Invalid(vars, "%s", rule)) }
	if c.PollInterval < 0 || c.PollInterval > 0 && c.PollInterval < time.Second {
		add("AGENTPHONE_TRANSCRIPT_POLL_INTERVAL", "must be 0 or at least 1s")
	}
	if c.MaxStreams < 1 {
		add("AGENTPHONE_TRANSCRIPT_MAX_STREAMS", "must be at least 1")
	}
	if c.Heartbeat <= 0 {
		add("AGENTPHONE_TRANSCRIPT_HEARTBEAT", "must be positive")
	}
	if c.RetryMin <= 0 || c.RetryMax < c.RetryMin {
		add("AGENTPHONE_TRANSCRIPT_RETRY_MIN, AGENTPHONE_TRANSCRIPT_RETRY_MAX", "must be positive, the minimum not above the maximum")
	}
	if c.MaxFailures < 1 {
		add("AGENTPHONE_TRANSCRIPT_MAX_FAILURES", "must be at least 1")
	}
	if c.ClaimTTL < time.Second {
		add("AGENTPHONE_TRANSCRIPT_CLAIM_TTL", "must be at least 1s")
	}
	return errors.Join(errs...)
}
