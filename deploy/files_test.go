package deploy

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// connectorImage is the image compose.yaml builds and runs the connector as.
const connectorImage = "agentphone-connector:dev"

// composeFile is the part of compose.yaml the tests read.
type composeFile struct {
	Services map[string]struct {
		Image       string         `yaml:"image"`
		Build       map[string]any `yaml:"build"`
		Command     []string       `yaml:"command"`
		Environment composeEnv     `yaml:"environment"`
		Volumes     []string       `yaml:"volumes"`
		ReadOnly    bool           `yaml:"read_only"`
		Healthcheck struct {
			Test []string `yaml:"test"`
		} `yaml:"healthcheck"`
	} `yaml:"services"`
}

// composeEnv is a service's environment, written as a map or as a list of
// KEY=VALUE.
type composeEnv map[string]string

func (e *composeEnv) UnmarshalYAML(n *yaml.Node) error {
	*e = composeEnv{}
	switch n.Kind {
	case yaml.MappingNode:
		m := map[string]string{}
		if err := n.Decode(&m); err != nil {
			return err
		}
		for k, v := range m {
			(*e)[k] = v
		}
	case yaml.SequenceNode:
		var list []string
		if err := n.Decode(&list); err != nil {
			return err
		}
		for _, kv := range list {
			k, v, _ := strings.Cut(kv, "=")
			(*e)[k] = v
		}
	default:
		return errors.New("environment: neither a map nor a list")
	}
	return nil
}

// manifest is the part of a Kubernetes object or kustomization the tests read.
type manifest struct {
	Kind     string                `yaml:"kind"`
	Metadata struct{ Name string } `yaml:"metadata"`
	Data     map[string]string     `yaml:"data"`

	ConfigMapGenerator []struct {
		Name     string   `yaml:"name"`
		Envs     []string `yaml:"envs"`
		Literals []string `yaml:"literals"`
	} `yaml:"configMapGenerator"`
	Resources []string `yaml:"resources"`

	Spec struct {
		Replicas *int                  `yaml:"replicas"`
		Strategy struct{ Type string } `yaml:"strategy"`
		Ports    []struct {
			Name string `yaml:"name"`
			Port int    `yaml:"port"`
		} `yaml:"ports"`
		MinReplicas    int `yaml:"minReplicas"`
		MaxUnavailable any `yaml:"maxUnavailable"`
		Template       struct {
			Spec podSpec `yaml:"spec"`
		} `yaml:"template"`
	} `yaml:"spec"`
}

type podSpec struct {
	SecurityContext struct {
		RunAsNonRoot *bool `yaml:"runAsNonRoot"`
		RunAsUser    int   `yaml:"runAsUser"`
	} `yaml:"securityContext"`
	Containers []container `yaml:"containers"`
	Volumes    []struct {
		Name     string         `yaml:"name"`
		EmptyDir map[string]any `yaml:"emptyDir"`
		Secret   map[string]any `yaml:"secret"`
	} `yaml:"volumes"`
}

type container struct {
	Name string `yaml:"name"`
	Env  []struct {
		Name      string         `yaml:"name"`
		Value     string         `yaml:"value"`
		ValueFrom map[string]any `yaml:"valueFrom"`
	} `yaml:"env"`
	EnvFrom        []map[string]any `yaml:"envFrom"`
	StartupProbe   *probe           `yaml:"startupProbe"`
	LivenessProbe  *probe           `yaml:"livenessProbe"`
	ReadinessProbe *probe           `yaml:"readinessProbe"`
	Resources      struct {
		Requests map[string]string `yaml:"requests"`
		Limits   map[string]string `yaml:"limits"`
	} `yaml:"resources"`
	SecurityContext struct {
		AllowPrivilegeEscalation *bool `yaml:"allowPrivilegeEscalation"`
		ReadOnlyRootFilesystem   bool  `yaml:"readOnlyRootFilesystem"`
		Capabilities             struct {
			Drop []string `yaml:"drop"`
		} `yaml:"capabilities"`
	} `yaml:"securityContext"`
	VolumeMounts []struct {
		Name      string `yaml:"name"`
		MountPath string `yaml:"mountPath"`
	} `yaml:"volumeMounts"`
}

type probe struct {
	HTTPGet struct {
		Path string `yaml:"path"`
		Port any    `yaml:"port"`
	} `yaml:"httpGet"`
}

// yamlDocs parses every document of a YAML file, failing the test on a
// syntax error or an empty file.
func yamlDocs(t *testing.T, path string) []map[string]any {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	dec := yaml.NewDecoder(f)
	var docs []map[string]any
	for {
		var doc map[string]any
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if doc != nil {
			docs = append(docs, doc)
		}
	}
	if len(docs) == 0 {
		t.Fatalf("%s: no YAML document", path)
	}
	return docs
}

// decode parses one YAML file into v, failing the test on an error.
func decode(t *testing.T, path string, v any) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(raw, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

func TestEveryYAMLFileParses(t *testing.T) {
	var n int
	err := filepath.WalkDir(".", func(path string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && (strings.HasSuffix(path, ".yaml") || strings.HasSuffix(path, ".yml")) {
			yamlDocs(t, path)
			n++
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if n < 12 {
		t.Errorf("%d YAML files under deploy/, expected the compose, Prometheus, Grafana and Kubernetes files", n)
	}
}

func TestComposeRunsTheWholeSystem(t *testing.T) {
	var c composeFile
	decode(t, "compose.yaml", &c)
	images := map[string]string{}
	for name, s := range c.Services {
		images[name] = s.Image
	}
	for name, prefix := range map[string]string{
		"connector": connectorImage, "nats": "nats:", "kafka": "apache/kafka:",
		"bigquery": "ghcr.io/goccy/bigquery-emulator:", "prometheus": "prom/prometheus:",
	} {
		if !strings.HasPrefix(images[name], prefix) {
			t.Errorf("service %s runs %q, want %s…", name, images[name], prefix)
		}
	}
	conn := c.Services["connector"]
	if conn.Build["dockerfile"] != "deploy/Dockerfile" || conn.Build["context"] != ".." {
		t.Errorf("connector build %v: want deploy/Dockerfile from the repository root", conn.Build)
	}
	if !conn.ReadOnly || !slices.Contains(conn.Healthcheck.Test, "healthcheck") {
		t.Errorf("connector: read_only %v, health check %v; want a read-only root and connector healthcheck", conn.ReadOnly, conn.Healthcheck.Test)
	}
	nats := c.Services["nats"]
	if conn.Environment["NATS_USER"] != "connector" || conn.Environment["NATS_PASSWORD"] == "" ||
		nats.Environment["NATS_CONNECTOR_PASSWORD"] != conn.Environment["NATS_PASSWORD"] || nats.Environment["NATS_SUBSCRIBER_PASSWORD"] == "" ||
		!slices.Contains(nats.Volumes, "./nats-auth.conf:/etc/nats/nats-auth.conf:ro") {
		t.Errorf("the connector does not connect as nats.conf's connector user: connector %v, nats %v %v", conn.Environment, nats.Environment, nats.Volumes)
	}
	kafka := c.Services["kafka"].Environment
	if kafka["KAFKA_PROCESS_ROLES"] != "broker,controller" || kafka["KAFKA_CONTROLLER_QUORUM_VOTERS"] == "" {
		t.Errorf("kafka is not a KRaft node: %v", kafka)
	}
	if !slices.Contains(c.Services["prometheus"].Volumes, "./prometheus/alerts.yml:/etc/prometheus/alerts.yml:ro") {
		t.Error("prometheus does not mount the alert rules")
	}

	var prom struct {
		RuleFiles     []string `yaml:"rule_files"`
		ScrapeConfigs []struct {
			JobName       string `yaml:"job_name"`
			StaticConfigs []struct {
				Targets []string `yaml:"targets"`
			} `yaml:"static_configs"`
		} `yaml:"scrape_configs"`
	}
	decode(t, "prometheus.yml", &prom)
	scraped := false
	for _, sc := range prom.ScrapeConfigs {
		for _, st := range sc.StaticConfigs {
			scraped = scraped || sc.JobName == "connector" && slices.Contains(st.Targets, "connector:9090")
		}
	}
	if !scraped || !slices.Contains(prom.RuleFiles, "/etc/prometheus/alerts.yml") {
		t.Errorf("prometheus.yml: scrapes the connector %v, rule files %v", scraped, prom.RuleFiles)
	}
}
