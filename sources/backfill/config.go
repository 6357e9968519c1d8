package backfill

import (
	"errors"
	"time"

	connector "github.com/agentphone-connector/connector"
)

// Config is what users set for backfill. The API URL and key are
// agentphoneapi.Config's.
type Config struct {
	Interval time.Duration `env:"CONNECTOR_BACKFILL_INTERVAL, default=0" help:"run backfill this often inside serve (needs AGENTPHONE_API_KEY); 0 runs it only as connector backfill"`
	Since    time.Duration `env:"CONNECTOR_BACKFILL_SINCE, default=72h" help:"how far back a periodic backfill looks (calls by start time, deliveries by creation); at most CONNECTOR_DEDUPE_WINDOW"`
	Settle   time.Duration `env:"CONNECTOR_BACKFILL_SETTLE, default=15m" help:"calls that ended more recently are left to their agent.call_ended webhook, which carries the analysis the REST API lacks"`
	PageSize int           `env:"CONNECTOR_BACKFILL_PAGE_SIZE, default=100" help:"calls and deliveries asked for per request (1 to 100)"`
}

// Validate reports every problem of the configuration.
func (c Config) Validate() error {
	var errs []error
	if c.Interval < 0 || c.Interval > 0 && c.Interval < time.Minute {
		errs = append(errs, connector.Invalid("CONNECTOR_BACKFILL_INTERVAL", "must be 0 or at least 1m"))
	}
	if c.Since < time.Minute || c.Since > 168*time.Hour {
		errs = append(errs, connector.Invalid("CONNECTOR_BACKFILL_SINCE", "must be between 1m and 168h (the deliveries log's reach)"))
	}
	if c.Settle < 0 {
		errs = append(errs, connector.Invalid("CONNECTOR_BACKFILL_SETTLE", "must not be negative"))
	}
	if c.PageSize < 1 || c.PageSize > 100 {
		errs = append(errs, connector.Invalid("CONNECTOR_BACKFILL_PAGE_SIZE", "must be between 1 and 100"))
	}
	return errors.Join(errs...)
}
