package agentphoneapi

import (
	"errors"
	"net/url"
	"os"
	"strings"
	"time"

	connector "github.com/agentphone-connector/connector"
)

// Key is an AgentPhone API key: a connector.Secret, which prints as
// "[redacted]" in every format, log and JSON; Reveal returns it for the
// Authorization header.
type Key = connector.Secret

// DefaultURL is AgentPhone's API (SPEC.md 5).
const DefaultURL = "https://api.agentphone.ai"

// Config is what users set for the REST API; the transcript and backfill
// sources share it.
type Config struct {
	URL        string        `env:"AGENTPHONE_API_URL, default=https://api.agentphone.ai" help:"AgentPhone's REST API, for transcript streams and backfill (paths under /v1)"`
	Key        Key           `env:"AGENTPHONE_API_KEY" help:"API key (sk_live_…) for transcript streams and backfill; never logged"`
	KeyFile    string        `env:"AGENTPHONE_API_KEY_FILE" help:"file holding the API key (a mounted secret), read at start when AGENTPHONE_API_KEY is not set"`
	Timeout    time.Duration `env:"AGENTPHONE_API_TIMEOUT, default=30s" help:"how long one REST request may take (transcript streams have no limit)"`
	MaxRetries int           `env:"AGENTPHONE_API_RETRIES, default=6" help:"retries of a REST request answered 429, 5xx or not at all"`
}

// LoadKeyFile reads the key from KeyFile when Key is not set.
func (c *Config) LoadKeyFile() error {
	if c.Key != "" || c.KeyFile == "" {
		return nil
	}
	b, err := os.ReadFile(c.KeyFile)
	if err != nil {
		return connector.Invalid("AGENTPHONE_API_KEY_FILE", "cannot be read: %v", err)
	}
	c.Key = Key(strings.TrimSpace(string(b)))
	return nil
}

// Validate reports every problem of the configuration. The key is checked
// by RequireKey, only where a source that needs it is enabled.
func (c Config) Validate() error {
	var errs []error
	if u, err := url.Parse(c.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		errs = append(errs, connector.Invalid("AGENTPHONE_API_URL", "not an http(s) URL"))
	}
	if c.Timeout < time.Second {
		errs = append(errs, connector.Invalid("AGENTPHONE_API_TIMEOUT", "must be at least 1s"))
	}
	if c.MaxRetries < 0 {
		errs = append(errs, connector.Invalid("AGENTPHONE_API_RETRIES", "must not be negative"))
	}
	return errors.Join(errs...)
}

// RequireKey reports a missing key on behalf of what needs it.
func (c Config) RequireKey(what string) error {
	if c.Key == "" {
		return connector.Invalid("AGENTPHONE_API_KEY", "%s needs the API key (or AGENTPHONE_API_KEY_FILE)", what)
	}
	return nil
}
