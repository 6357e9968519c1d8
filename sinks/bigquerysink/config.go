package bigquerysink

import (
	"errors"
	"log/slog"
	"net"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/agentphone-connector/connector/sinks"

	connector "github.com/agentphone-connector/connector"
)

// Stream modes: how appends are made exactly-once (see the package doc).
const (
	StreamCommitted = "committed" // a COMMITTED stream per table, every append at an explicit offset
	StreamDefault   = "default"   // the table's _default stream: at-least-once, duplicates removed by the views
)

// Config is what users set for the BigQuery sink. The sink is enabled when
// Project is set.
type Config struct {
	Project         string `env:"CONNECTOR_BIGQUERY_PROJECT" help:"Google Cloud project of the dataset; setting it enables the BigQuery sink (credentials: Application Default Credentials)"`
	Dataset         string `env:"CONNECTOR_BIGQUERY_DATASET, default=agentphone" help:"dataset holding the tables and views"`
	Location        string `env:"CONNECTOR_BIGQUERY_LOCATION, default=US" help:"location of the dataset when the connector creates it"`
	Endpoint        string `env:"CONNECTOR_BIGQUERY_ENDPOINT" help:"BigQuery REST endpoint override, e.g. http://127.0.0.1:9050 for an emulator; an http:// endpoint gets no credentials"`
	StorageEndpoint string `env:"CONNECTOR_BIGQUERY_STORAGE_ENDPOINT" help:"Storage Write API endpoint override as host:port; a loopback host, or http://host:port, is dialled in plaintext without credentials (emulators)"`
	// CredentialsFile is read by Google's client library itself (Application
	// Default Credentials); it is here so that `connector config` lists it
	// and deployments can be checked against the variables the connector knows.
	CredentialsFile string `env:"GOOGLE_APPLICATION_CREDENTIALS" help:"service account key file for BigQuery, read by Google's client library; unset, Application Default Credentials come from workload identity, the metadata server or gcloud"`
	Stream          string `env:"CONNECTOR_BIGQUERY_STREAM, default=committed" help:"committed (explicit offsets: a retried append is never written twice) or default (at-least-once; the views deduplicate by event_id)"`
	ManageSchema    bool   `env:"CONNECTOR_BIGQUERY_MANAGE_SCHEMA, default=true" help:"create the dataset, tables and views when missing and add new columns at start"`

	BatchSize    int           `env:"CONNECTOR_BIGQUERY_BATCH_SIZE, default=500" help:"most events per batch read from the journal and per Write (appends are split at 9 MB)"`
	BatchTimeout time.Duration `env:"CONNECTOR_BIGQUERY_BATCH_TIMEOUT, default=200ms" help:"longest wait for a batch to fill while the journal is quiet"`
	Kinds        []string      `env:"CONNECTOR_BIGQUERY_KINDS" help:"event kinds the BigQuery sink (the events table and the typed tables) receives, comma-separated kind tokens (message, call_ended, reaction, transcript_turn, contact_shared, unknown, invalid, delivery_failed); unset for every event; the journal filters the others out"`
}

var datasetID = regexp.MustCompile(`^[A-Za-z0-9_]+$`)

// Enabled reports whether the sink is configured.
func (c Config) Enabled() bool { return c.Project != "" }

// Validate reports every problem of the configuration. A disabled sink is
// always valid.
func (c Config) Validate() error {
	if !c.Enabled() {
		return nil
	}
	var errs []error
	if !datasetID.MatchString(c.Dataset) {
		errs = append(errs, connector.Invalid("CONNECTOR_BIGQUERY_DATASET", "not a dataset ID (letters, digits and _)"))
	}
	if c.Location == "" {
		errs = append(errs, connector.Invalid("CONNECTOR_BIGQUERY_LOCATION", "must be set"))
	}
	if c.Endpoint != "" {
		if u, err := url.Parse(c.Endpoint); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs = append(errs, connector.Invalid("CONNECTOR_BIGQUERY_ENDPOINT", "not an http(s) URL"))
		}
	}
	if c.StorageEndpoint != "" {
		if _, _, err := net.SplitHostPort(strings.TrimPrefix(c.StorageEndpoint, plaintextScheme)); err != nil {
			errs = append(errs, connector.Invalid("CONNECTOR_BIGQUERY_STORAGE_ENDPOINT", "not host:port or http://host:port"))
		}
	}
	if c.BatchSize < 1 || c.BatchSize > 10000 {
		errs = append(errs, connector.Invalid("CONNECTOR_BIGQUERY_BATCH_SIZE", "must be 1 to 10000"))
	}
	if c.BatchTimeout < time.Millisecond {
		errs = append(errs, connector.Invalid("CONNECTOR_BIGQUERY_BATCH_TIMEOUT", "must be at least 1ms"))
	}
	if c.Stream != StreamCommitted && c.Stream != StreamDefault {
		errs = append(errs, connector.Invalid("CONNECTOR_BIGQUERY_STREAM", "must be committed or default"))
	}
	errs = append(errs, c.Route().Validate("CONNECTOR_BIGQUERY_KINDS", ""))
	return errors.Join(errs...)
}

// Route is which events the sink receives.
func (c Config) Route() sinks.Route { return sinks.Route{Kinds: c.Kinds} }

// Settings is what the code passes in: none of it comes from users.
type Settings struct {
	Logger     *slog.Logger          // nil logs nothing
	Registerer prometheus.Registerer // nil registers no metrics
}

func (s Settings) withDefaults() Settings {
	if s.Logger == nil {
		s.Logger = slog.New(slog.DiscardHandler)
	}
	return s
}

// Batching is how the delivery machinery batches events for the sink. Bytes
// is left to the sink, which splits appends at the Storage Write limit.
func (c Config) Batching() sinks.Batching {
	return sinks.Batching{Size: c.BatchSize, Wait: c.BatchTimeout}
}
