package deploy

import (
	"bytes"
	"errors"
	"io"
	"os/exec"
	"slices"
	"testing"

	"go.yaml.in/yaml/v3"
)

// baseObjects returns the objects of the Kustomize base by kind and name.
func baseObjects(t *testing.T) map[string]manifest {
	t.Helper()
	var k manifest
	decode(t, "kubernetes/base/kustomization.yaml", &k)
	objs := map[string]manifest{}
	for _, r := range k.Resources {
		for _, doc := range yamlDocs(t, "kubernetes/base/"+r) {
			var m manifest
			b, _ := yaml.Marshal(doc)
			if err := yaml.Unmarshal(b, &m); err != nil {
				t.Fatalf("%s: %v", r, err)
			}
			objs[m.Kind+"/"+m.Metadata.Name] = m
		}
	}
	return objs
}

func TestKubernetesBase(t *testing.T) {
	objs := baseObjects(t)
	for _, want := range []string{"Deployment/connector", "Deployment/connector-sinks", "Service/connector",
		"PodDisruptionBudget/connector", "PodDisruptionBudget/connector-sinks", "HorizontalPodAutoscaler/connector", "ServiceAccount/connector"} {
		if _, ok := objs[want]; !ok {
			t.Errorf("the base has no %s", want)
		}
	}
	for _, name := range []string{"Deployment/connector", "Deployment/connector-sinks"} {
		t.Run(name, func(t *testing.T) { checkPod(t, objs[name].Spec.Template.Spec) })
	}
	// Sinks take turns through leases in NATS; a second replica stands by.
	if s := objs["Deployment/connector-sinks"].Spec; s.Replicas == nil || *s.Replicas < 2 {
		t.Errorf("the sinks Deployment should keep a standby replica (replicas >= 2)")
	}
	var ports []int
	for _, p := range objs["Service/connector"].Spec.Ports {
		ports = append(ports, p.Port)
	}
	if !slices.Contains(ports, 8080) || !slices.Contains(ports, 9090) {
		t.Errorf("the Service exposes %v, want the webhook port 8080 and the admin port 9090", ports)
	}
	if objs["HorizontalPodAutoscaler/connector"].Spec.MinReplicas < 2 {
		t.Error("the HPA should keep at least two ingest replicas")
	}

	// Several replicas need a NATS cluster: never the embedded server.
	cfg := envFileVars(t, "kubernetes/base/connector.env", false)
	if len(cfg["NATS_URL"]) == 0 || cfg["NATS_URL"][0] == "" || !slices.Equal(cfg["CONNECTOR_JOURNAL_REPLICAS"], []string{"3"}) {
		t.Errorf("connector.env: NATS_URL %v, CONNECTOR_JOURNAL_REPLICAS %v; want a NATS cluster and three stream replicas",
			cfg["NATS_URL"], cfg["CONNECTOR_JOURNAL_REPLICAS"])
	}
	// Each pod connects as the connector's user of nats-auth.conf.
	if !slices.Equal(cfg["NATS_USER"], []string{"connector"}) {
		t.Errorf("connector.env: NATS_USER %v, want connector", cfg["NATS_USER"])
	}
	for _, name := range []string{"Deployment/connector", "Deployment/connector-sinks"} {
		set := false
		for _, c := range objs[name].Spec.Template.Spec.Containers {
			for _, e := range c.Env {
				set = set || e.Name == "NATS_PASSWORD"
			}
		}
		if !set {
			t.Errorf("%s does not set NATS_PASSWORD", name)
		}
	}
}

// checkPod checks what every connector pod needs: probes on /healthz and
// /readyz, resources, a locked-down security context and an emptyDir for
// what it writes.
func checkPod(t *testing.T, pod podSpec) {
	t.Helper()
	if len(pod.Containers) != 1 {
		t.Fatalf("%d containers, want 1", len(pod.Containers))
	}
	c := pod.Containers[0]
	if pod.SecurityContext.RunAsNonRoot == nil || !*pod.SecurityContext.RunAsNonRoot || pod.SecurityContext.RunAsUser != nonroot {
		t.Errorf("pod security context: runAsNonRoot %v, runAsUser %d; want true, %d", pod.SecurityContext.RunAsNonRoot, pod.SecurityContext.RunAsUser, nonroot)
	}
	sc := c.SecurityContext
	if sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation || !sc.ReadOnlyRootFilesystem || !slices.Equal(sc.Capabilities.Drop, []string{"ALL"}) {
		t.Errorf("container security context %+v: want no privilege escalation, a read-only root, all capabilities dropped", sc)
	}
	for name, p := range map[string]struct {
		probe *probe
		path  string
	}{"liveness": {c.LivenessProbe, "/healthz"}, "readiness": {c.ReadinessProbe, "/readyz"}, "startup": {c.StartupProbe, "/healthz"}} {
		if p.probe == nil || p.probe.HTTPGet.Path != p.path || p.probe.HTTPGet.Port != "admin" {
			t.Errorf("%s probe %+v: want GET %s on the admin port", name, p.probe, p.path)
		}
	}
	if c.Resources.Requests["cpu"] == "" || c.Resources.Requests["memory"] == "" || c.Resources.Limits["memory"] == "" {
		t.Errorf("resources %+v: want cpu and memory requests and a memory limit", c.Resources)
	}
	emptyDirs := map[string]bool{}
	for _, v := range pod.Volumes {
		emptyDirs[v.Name] = v.EmptyDir != nil
	}
	writable := false
	for _, m := range c.VolumeMounts {
		writable = writable || emptyDirs[m.Name] && m.MountPath == "/tmp"
	}
	if !writable {
		t.Error("no emptyDir at /tmp: the root file system is read-only")
	}
}

// kustomize builds a kustomization with kubectl, when this machine has it.
func kustomize(t *testing.T, dir string) []map[string]any {
	t.Helper()
	kubectl, err := exec.LookPath("kubectl")
	if err != nil {
		t.Skip("kubectl is not installed: the kustomizations are checked file by file only")
	}
	out, err := exec.Command(kubectl, "kustomize", dir).Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			t.Fatalf("kubectl kustomize %s: %v: %s", dir, err, ee.Stderr)
		}
		t.Fatal(err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(out))
	var docs []map[string]any
	for {
		var doc map[string]any
		if err := dec.Decode(&doc); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		docs = append(docs, doc)
	}
	return docs
}

// The base and the example overlay build, and what they build sets only
// variables the connector knows, each Deployment on its own.
func TestKustomizationsBuild(t *testing.T) {
	known := knownVars(t)
	for _, dir := range []string{"kubernetes/base", "kubernetes/overlays/example"} {
		t.Run(dir, func(t *testing.T) {
			docs := kustomize(t, dir)
			configMaps := map[string]vars{}
			for _, doc := range docs {
				if doc["kind"] == "ConfigMap" {
					v := vars{}
					manifestVars(doc, v)
					configMaps[doc["metadata"].(map[string]any)["name"].(string)] = v
				}
			}
			deployments := 0
			for _, doc := range docs {
				if doc["kind"] != "Deployment" {
					continue
				}
				deployments++
				v := deploymentVars(t, doc, configMaps)
				if bad := v.unknown(known); len(bad) > 0 {
					t.Errorf("%s: variables the connector does not know: %v", doc["metadata"].(map[string]any)["name"], bad)
				}
				if len(v["NATS_URL"]) == 0 {
					t.Errorf("%s: no NATS_URL: replicas must share a NATS cluster", doc["metadata"].(map[string]any)["name"])
				}
			}
			if deployments != 2 {
				t.Errorf("%d Deployments, want 2 (ingest and sinks)", deployments)
			}
		})
	}
}

// deploymentVars returns what one built Deployment sets: its env and the
// ConfigMaps it takes whole.
func deploymentVars(t *testing.T, doc map[string]any, configMaps map[string]vars) vars {
	t.Helper()
	var m manifest
	b, _ := yaml.Marshal(doc)
	if err := yaml.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	v := vars{}
	manifestVars(doc, v)
	for _, c := range m.Spec.Template.Spec.Containers {
		for _, from := range c.EnvFrom {
			ref, _ := from["configMapRef"].(map[string]any)
			name, _ := ref["name"].(string)
			cm, ok := configMaps[name]
			if !ok {
				t.Errorf("envFrom ConfigMap %q is not built", name)
			}
			for k, vals := range cm {
				v[k] = append(v[k], vals...)
			}
		}
	}
	return v
}
