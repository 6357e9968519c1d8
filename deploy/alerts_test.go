package deploy

import (
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/nats-io/nats-server/v2/conf"
)

// alertRules is prometheus/alerts.yml.
type alertRules struct {
	Groups []struct {
		Name  string `yaml:"name"`
		Rules []struct {
			Alert       string            `yaml:"alert"`
			Expr        string            `yaml:"expr"`
			For         string            `yaml:"for"`
			Labels      map[string]string `yaml:"labels"`
			Annotations map[string]string `yaml:"annotations"`
		} `yaml:"rules"`
	} `yaml:"groups"`
}

// Every alert asks for metrics the connector registers, has a severity, a
// summary and a description, and is explained in docs/operations.md.
func TestAlertRules(t *testing.T) {
	var rules alertRules
	decode(t, "prometheus/alerts.yml", &rules)
	guide, err := os.ReadFile("../docs/operations.md")
	if err != nil {
		t.Fatal(err)
	}
	var names, exprs []string
	for _, g := range rules.Groups {
		for _, r := range g.Rules {
			if slices.Contains(names, r.Alert) {
				t.Errorf("alert %s is defined twice", r.Alert)
			}
			names, exprs = append(names, r.Alert), append(exprs, r.Expr)
			if s := r.Labels["severity"]; s != "critical" && s != "warning" && s != "info" {
				t.Errorf("%s: severity %q, want critical, warning or info", r.Alert, s)
			}
			if r.Annotations["summary"] == "" || r.Annotations["description"] == "" {
				t.Errorf("%s: no summary or description", r.Alert)
			}
			if !strings.Contains(string(guide), "`"+r.Alert+"`") {
				t.Errorf("%s is not explained in docs/operations.md", r.Alert)
			}
		}
	}
	if len(names) < 8 {
		t.Fatalf("%d alerts: expected rules for ingest, the journal and the sinks", len(names))
	}
	checkQueries(t, exprs, registeredMetrics(t), []string{
		"connector_webhook_rejections_total", "connector_journal_append_seconds_bucket",
		"connector_sink_healthy", "connector_sink_oldest_pending_seconds", "connector_sink_events_total",
	})
}

// The compose project's NATS server takes the largest event a webhook can
// make: twice the default 1 MiB body limit plus 64 KiB (the connector
// refuses a smaller max_payload), and runs JetStream.
func TestNATSConfig(t *testing.T) {
	for user := range natsPasswords {
		t.Setenv("NATS_"+strings.ToUpper(user)+"_PASSWORD", natsPasswords[user])
	}
	c, err := conf.ParseFile("nats.conf")
	if err != nil {
		t.Fatal(err)
	}
	const need = 2*(1<<20) + 64<<10
	if p, ok := c["max_payload"].(int64); !ok || p < need {
		t.Errorf("max_payload %v, want at least %d", c["max_payload"], need)
	}
	if _, ok := c["jetstream"].(map[string]any); !ok {
		t.Error("nats.conf does not enable JetStream")
	}
}
