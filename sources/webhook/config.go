package webhook

import (
	"errors"
	"regexp"
	"strings"
	"time"

	connector "github.com/agentphone-connector/connector"
)

// ProjectRoute is the name of the route of the project (account) webhook,
// served at /webhooks/agentphone.
const ProjectRoute = "project"

// Secret is a webhook signing secret; see connector.Secret.
type Secret = connector.Secret

// Config is what users set for the webhook source.
type Config struct {
	Secrets      []Secret      `env:"AGENTPHONE_WEBHOOK_SECRET" help:"secrets of the project route, comma separated (several while rotating)"`
	Routes       []string      `env:"AGENTPHONE_WEBHOOK_ROUTES" help:"names of extra routes, comma separated; each served at /webhooks/agentphone/<name> with secrets from AGENTPHONE_WEBHOOK_SECRET_<NAME>"`
	MaxBodyBytes int64         `env:"CONNECTOR_MAX_BODY_BYTES, default=1048576" help:"largest body accepted; larger ones are answered 413"`
	Tolerance    time.Duration `env:"AGENTPHONE_WEBHOOK_TOLERANCE, default=5m" help:"how far X-Webhook-Timestamp may be from now"`
	ReadTimeout  time.Duration `env:"CONNECTOR_HTTP_READ_TIMEOUT, default=30s" help:"the whole request, body included, must arrive within this"`
	IdleTimeout  time.Duration `env:"CONNECTOR_HTTP_IDLE_TIMEOUT, default=120s" help:"keep-alive connections idle longer are closed"`
	RetryAfter   time.Duration `env:"CONNECTOR_RETRY_AFTER, default=30s" help:"Retry-After sent with 503 when the journal cannot take an event"`

	RejectBudget   int      `env:"CONNECTOR_REJECT_BUDGET, default=60" help:"rejected requests (bad or missing signature, unknown route, body too large, ...) a client may send per minute, as many at once; past it each further one waits a second and is answered 429 with Retry-After; a correctly signed delivery is never counted nor refused; 0 turns the budget off"`
	TrustedProxies []string `env:"CONNECTOR_TRUSTED_PROXIES" help:"addresses or CIDR prefixes of the proxies in front of the webhook listener, comma separated; behind them a request's client is the last X-Forwarded-For address that is not one of them"`

	// RouteSecrets holds the secrets of each extra route, read by LoadRouteSecrets.
	RouteSecrets map[string][]Secret
	// HeldRoutes are the routes (ProjectRoute included) whose secret
	// variable is set and empty: they answer 503 (retried by AgentPhone)
	// until a secret is set, as the project route does without one.
	// Rotating a secret goes through this state so that no delivery signed
	// with a secret the connector does not have yet is answered 401 (never
	// retried).
	HeldRoutes map[string]bool
}

var routeName = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`)

// RouteSecretVar returns the environment variable that holds the secrets of
// the named route: AGENTPHONE_WEBHOOK_SECRET_ + the name in upper case with
// "-" as "_".
func RouteSecretVar(route string) string {
	return "AGENTPHONE_WEBHOOK_SECRET_" + strings.ToUpper(strings.ReplaceAll(route, "-", "_"))
}

// LoadRouteSecrets reads the secrets of every route in c.Routes with lookup
// (os.LookupEnv, say).
func (c *Config) LoadRouteSecrets(lookup func(string) (string, bool)) {
	c.RouteSecrets = make(map[string][]Secret, len(c.Routes))
	c.HeldRoutes = make(map[string]bool)
	if v, set := lookup("AGENTPHONE_WEBHOOK_SECRET"); set && len(splitSecrets(v)) == 0 {
		c.HeldRoutes[ProjectRoute] = true
	}
	for _, r := range c.Routes {
		v, set := lookup(RouteSecretVar(r))
		c.RouteSecrets[r] = splitSecrets(v)
		if set && len(c.RouteSecrets[r]) == 0 {
			c.HeldRoutes[r] = true
		}
	}
}

func splitSecrets(v string) []Secret {
	var out []Secret
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, Secret(s))
		}
	}
	return out
}

// Validate reports every problem of the configuration.
func (c Config) Validate() error {
	var errs []error
	seen := map[string]bool{}
	for _, r := range c.Routes {
		switch {
		case !routeName.MatchString(r):
			errs = append(errs, connector.Invalid("AGENTPHONE_WEBHOOK_ROUTES", "%q is not a route name (lower-case letters, digits, - and _)", r))
		case r == ProjectRoute:
			errs = append(errs, connector.Invalid("AGENTPHONE_WEBHOOK_ROUTES", "%q is the project route; set AGENTPHONE_WEBHOOK_SECRET instead", r))
		case seen[r]:
			errs = append(errs, connector.Invalid("AGENTPHONE_WEBHOOK_ROUTES", "%q listed twice", r))
		case len(c.RouteSecrets[r]) == 0 && !c.HeldRoutes[r]:
			errs = append(errs, connector.Invalid(RouteSecretVar(r), "route %q has no secret (set it empty on purpose to answer 503 while rotating)", r))
		}
		seen[r] = true
	}
	if c.MaxBodyBytes < 1024 {
		errs = append(errs, connector.Invalid("CONNECTOR_MAX_BODY_BYTES", "must be at least 1024"))
	}
	if c.RejectBudget < 0 {
		errs = append(errs, connector.Invalid("CONNECTOR_REJECT_BUDGET", "must be 0 (off) or more"))
	}
	if _, err := ParseProxies(c.TrustedProxies); err != nil {
		errs = append(errs, connector.Invalid("CONNECTOR_TRUSTED_PROXIES", "%v", err))
	}
	if c.Tolerance < time.Second {
		errs = append(errs, connector.Invalid("AGENTPHONE_WEBHOOK_TOLERANCE", "must be at least 1s"))
	}
	for _, d := range []struct {
		name string
		d    time.Duration
	}{{"CONNECTOR_HTTP_READ_TIMEOUT", c.ReadTimeout}, {"CONNECTOR_HTTP_IDLE_TIMEOUT", c.IdleTimeout}, {"CONNECTOR_RETRY_AFTER", c.RetryAfter}} {
		if d.d < time.Second {
			errs = append(errs, connector.Invalid(d.name, "must be at least 1s"))
		}
	}
	return errors.Join(errs...)
}
