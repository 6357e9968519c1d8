package deploy

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// routeSecretPrefix starts the secret variable of a named webhook route.
const routeSecretPrefix = "AGENTPHONE_WEBHOOK_SECRET_"

// knownVars returns the variables the connector reads, as `connector config
// --names` lists them from its configuration structs.
func knownVars(t *testing.T) map[string]bool {
	t.Helper()
	out, err := exec.Command(connectorBin, "config", "--names").Output()
	if err != nil {
		t.Fatalf("connector config --names: %v", err)
	}
	known := map[string]bool{}
	for _, n := range strings.Fields(string(out)) {
		known[n] = true
	}
	if !known["NATS_URL"] || !known[routeSecretPrefix+"<NAME>"] || len(known) < 50 {
		t.Fatalf("connector config --names lists %d names, not the whole configuration", len(known))
	}
	return known
}

// vars is what one deployment sets: each variable with its values.
type vars map[string][]string

func (v vars) add(name, value string) { v[name] = append(v[name], value) }

// unknown returns the variables the connector does not know. A route's
// secret variable is known when its route is listed in
// AGENTPHONE_WEBHOOK_ROUTES in the same deployment.
func (v vars) unknown(known map[string]bool) []string {
	routes := map[string]bool{}
	for _, list := range v["AGENTPHONE_WEBHOOK_ROUTES"] {
		for _, r := range strings.Split(list, ",") {
			if r = strings.TrimSpace(r); r != "" {
				routes[routeSecretPrefix+strings.ToUpper(strings.ReplaceAll(r, "-", "_"))] = true
			}
		}
	}
	var bad []string
	for name := range v {
		if !known[name] && !routes[name] {
			bad = append(bad, name)
		}
	}
	slices.Sort(bad)
	return bad
}

func TestUnknownVars(t *testing.T) {
	known := map[string]bool{"NATS_URL": true, "AGENTPHONE_WEBHOOK_ROUTES": true, routeSecretPrefix + "<NAME>": true}
	for _, tc := range []struct {
		name string
		set  vars
		want []string
	}{
		{"known", vars{"NATS_URL": {"nats://nats:4222"}}, nil},
		{"typo", vars{"NATS_ULR": {"x"}}, []string{"NATS_ULR"}},
		{"route secret of a listed route", vars{"AGENTPHONE_WEBHOOK_ROUTES": {"sales,support-eu"}, routeSecretPrefix + "SUPPORT_EU": {"s"}}, nil},
		{"route secret of no route", vars{"AGENTPHONE_WEBHOOK_ROUTES": {"sales"}, routeSecretPrefix + "SUPPORT": {"s"}}, []string{routeSecretPrefix + "SUPPORT"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.set.unknown(known); !slices.Equal(got, tc.want) {
				t.Errorf("unknown = %v, want %v", got, tc.want)
			}
		})
	}
}

// Every variable the deployment files set is one the connector knows: a
// misspelt variable would be ignored silently and its default used.
func TestDeploymentsSetOnlyKnownVariables(t *testing.T) {
	known := knownVars(t)
	for _, d := range []struct {
		name string
		vars vars
		must []string // variables the deployment must set, so the check is not vacuous
	}{
		{"compose.yaml and .env.example", composeVars(t), []string{"NATS_URL", "CONNECTOR_KAFKA_BROKERS", "CONNECTOR_BIGQUERY_STORAGE_ENDPOINT", "AGENTPHONE_WEBHOOK_SECRET"}},
		{"Dockerfile", dockerfileVars(t), []string{"CONNECTOR_DATA_DIR"}},
		{"kubernetes", kubernetesVars(t, "kubernetes"), []string{"NATS_URL", "CONNECTOR_JOURNAL_REPLICAS", "AGENTPHONE_WEBHOOK_SECRET", "AGENTPHONE_API_KEY_FILE", "GOOGLE_APPLICATION_CREDENTIALS", routeSecretPrefix + "SALES"}},
	} {
		t.Run(d.name, func(t *testing.T) {
			for _, m := range d.must {
				if _, ok := d.vars[m]; !ok {
					t.Errorf("%s is not set", m)
				}
			}
			if bad := d.vars.unknown(known); len(bad) > 0 {
				t.Errorf("variables the connector does not know: %v", bad)
			}
		})
	}
}

// composeVars returns the connector's variables in compose.yaml (the
// environment of every service running the connector image, and every
// ${VAR} the file interpolates) and in .env.example (commented examples
// included).
func composeVars(t *testing.T) vars {
	t.Helper()
	v := vars{}
	raw, err := os.ReadFile("compose.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var c composeFile
	if err := yaml.Unmarshal(raw, &c); err != nil {
		t.Fatal(err)
	}
	for name, s := range c.Services {
		if s.Image != connectorImage && s.Build == nil {
			continue
		}
		if len(s.Environment) == 0 {
			t.Errorf("service %s runs the connector with no environment", name)
		}
		for k, val := range s.Environment {
			v.add(k, val)
		}
	}
	for _, m := range regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)`).FindAllStringSubmatch(string(raw), -1) {
		v.add(m[1], "")
	}
	for name, val := range envFileVars(t, ".env.example", true) {
		v[name] = append(v[name], val...)
	}
	return v
}

// dockerfileVars returns the variables the Dockerfile's ENV sets.
func dockerfileVars(t *testing.T) vars {
	t.Helper()
	raw, err := os.ReadFile("Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	v := vars{}
	for _, m := range regexp.MustCompile(`(?m)^ENV\s+([A-Za-z_][A-Za-z0-9_]*)=(\S*)`).FindAllStringSubmatch(string(raw), -1) {
		v.add(m[1], m[2])
	}
	return v
}

// envFileVars reads KEY=VALUE lines; with commented, "# KEY=VALUE" lines
// (examples a user uncomments) count too.
func envFileVars(t *testing.T, path string, commented bool) vars {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	line := regexp.MustCompile(`^([A-Z][A-Z0-9_]*)=(.*)$`)
	v := vars{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		s := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(s, "#") {
			if !commented {
				continue
			}
			s = strings.TrimSpace(strings.TrimPrefix(s, "#"))
		}
		if m := line.FindStringSubmatch(s); m != nil {
			v.add(m[1], m[2])
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return v
}

// kubernetesVars returns the variables of every manifest under dir: the
// containers' env, ConfigMap data, and the env files and literals of the
// kustomizations' configMapGenerators.
func kubernetesVars(t *testing.T, dir string) vars {
	t.Helper()
	v := vars{}
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		switch {
		case err != nil || d.IsDir():
			return err
		case strings.HasSuffix(path, ".env"):
			for k, vals := range envFileVars(t, path, false) {
				v[k] = append(v[k], vals...)
			}
		case strings.HasSuffix(path, ".yaml"):
			for _, doc := range yamlDocs(t, path) {
				manifestVars(doc, v)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// manifestVars adds the variables one manifest (or kustomization) sets.
func manifestVars(doc map[string]any, v vars) {
	var m manifest
	if b, err := yaml.Marshal(doc); err != nil || yaml.Unmarshal(b, &m) != nil {
		return
	}
	if m.Kind == "ConfigMap" {
		for k, val := range m.Data {
			v.add(k, val)
		}
	}
	for _, g := range m.ConfigMapGenerator {
		for _, l := range g.Literals {
			k, val, _ := strings.Cut(l, "=")
			v.add(k, val)
		}
	}
	for _, c := range m.Spec.Template.Spec.Containers {
		for _, e := range c.Env {
			v.add(e.Name, e.Value)
		}
	}
}
