// Package natsservertest runs a real NATS cluster for tests: nats-server
// processes with JetStream, routed to each other on loopback, each with its
// own store. The server is the module's own nats-server dependency, built
// once and cached. A node can be killed (SIGKILL: a crash, for its
// clients and its peers) and started again on the same ports and store.
//
// It also runs one nats-server in process from a configuration file, as a
// deployment would (StartFile, for deploy/nats.conf), and holds the
// operations a subscriber must not be able to do on the journal (WriteOps),
// to check any server's permissions against.
package natsservertest

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Cluster is a set of routed nats-server nodes. Its methods are safe for
// concurrent use.
type Cluster struct {
	t     testing.TB
	bin   string
	mu    sync.Mutex
	nodes []*node
}

type node struct {
	name                 string
	client, route, monit int
	dir                  string
	routes               string
	cmd                  *exec.Cmd // nil while stopped
	exited               chan struct{}
}

// StartCluster starts n nodes and waits until JetStream is healthy on each:
// routed, with a meta leader. Every node is killed when the test ends.
func StartCluster(t testing.TB, n int) *Cluster {
	t.Helper()
	c := StartNodes(t, n, n)
	for i := range n {
		c.WaitHealthy(i, time.Minute)
	}
	return c
}

// StartNodes prepares n nodes and starts the first `start` of them; Start
// starts the others. A cluster started short of a majority of its nodes is
// one still forming: JetStream has no meta leader yet.
func StartNodes(t testing.TB, n, start int) *Cluster {
	t.Helper()
	c := &Cluster{t: t, bin: serverBinary(t)}
	ports := freePorts(t, 3*n)
	var routes []string
	for i := range n {
		routes = append(routes, fmt.Sprintf("nats://127.0.0.1:%d", ports[3*i+1]))
	}
	for i := range n {
		c.nodes = append(c.nodes, &node{
			name: fmt.Sprintf("n%d", i+1), client: ports[3*i], route: ports[3*i+1], monit: ports[3*i+2],
			dir: t.TempDir(), routes: strings.Join(routes, ","),
		})
	}
	t.Cleanup(func() {
		for i := range c.nodes {
			c.Kill(i)
		}
	})
	for i := range start {
		c.Start(i)
	}
	return c
}

// Start starts node i (0-based) on its ports and store and waits until it
// accepts client connections.
func (c *Cluster) Start(i int) {
	c.t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	nd := c.nodes[i]
	if nd.cmd != nil {
		return
	}
	conf := filepath.Join(nd.dir, "nats.conf")
	if err := os.WriteFile(conf, []byte(nd.config()), 0o600); err != nil {
		c.t.Fatal(err)
	}
	cmd := exec.Command(c.bin, "-c", conf)
	if err := cmd.Start(); err != nil {
		c.t.Fatalf("node %s: %v", nd.name, err)
	}
	nd.cmd, nd.exited = cmd, make(chan struct{})
	go func(exited chan struct{}) { _ = cmd.Wait(); close(exited) }(nd.exited)
	if err := waitDial(fmt.Sprintf("127.0.0.1:%d", nd.client), nd.exited, 30*time.Second); err != nil {
		c.t.Fatalf("node %s: %v", nd.name, err)
	}
}

// config is the node's configuration file.
func (nd *node) config() string {
	var routes []string
	for _, r := range strings.Split(nd.routes, ",") {
		routes = append(routes, strconv.Quote(r))
	}
	return fmt.Sprintf(`server_name: %s
listen: "127.0.0.1:%d"
http: "127.0.0.1:%d"
max_payload: 8MB
jetstream { store_dir: %q }
cluster { name: test, listen: "127.0.0.1:%d", routes: [%s] }
`, nd.name, nd.client, nd.monit, filepath.Join(nd.dir, "jetstream"), nd.route, strings.Join(routes, ", "))
}

// Kill kills node i with SIGKILL and waits until it has exited.
func (c *Cluster) Kill(i int) {
	c.mu.Lock()
	nd := c.nodes[i]
	cmd, exited := nd.cmd, nd.exited
	nd.cmd = nil
	c.mu.Unlock()
	if cmd != nil {
		_ = cmd.Process.Kill()
		<-exited
	}
}

// Name returns node i's server name.
func (c *Cluster) Name(i int) string { return c.nodes[i].name }

// Index returns the index of the node named name, or -1.
func (c *Cluster) Index(name string) int {
	for i, nd := range c.nodes {
		if nd.name == name {
			return i
		}
	}
	return -1
}

// URLs returns the client URLs of every node, running or not, comma
// separated: what NATS_URL holds for the cluster.
func (c *Cluster) URLs() string {
	var urls []string
	for _, nd := range c.nodes {
		urls = append(urls, fmt.Sprintf("nats://127.0.0.1:%d", nd.client))
	}
	return strings.Join(urls, ",")
}

// WaitHealthy waits until node i reports JetStream healthy (its /healthz
// answers 200: routed, a meta leader known, its streams current).
func (c *Cluster) WaitHealthy(i int, timeout time.Duration) {
	c.t.Helper()
	url := fmt.Sprintf("http://127.0.0.1:%d/healthz", c.nodes[i].monit)
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if resp, err := http.Get(url); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	c.t.Fatalf("node %s: JetStream not healthy within %v", c.nodes[i].name, timeout)
}

var build struct {
	once sync.Once
	bin  string
	err  error
}

// serverBinary returns the nats-server this module depends on, built once
// and kept in the user's cache directory under its version, so that later
// test runs start at once.
func serverBinary(t testing.TB) string {
	t.Helper()
	build.once.Do(func() { build.bin, build.err = buildServer() })
	if build.err != nil {
		t.Fatal(build.err)
	}
	return build.bin
}

const serverModule = "github.com/nats-io/nats-server/v2"

func buildServer() (string, error) {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Version}}", serverModule).Output()
	if err != nil {
		return "", fmt.Errorf("version of %s: %w", serverModule, err)
	}
	version := strings.TrimSpace(string(out))
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	dir := filepath.Join(cache, "agentphone-connector", "nats-server-"+version)
	bin := filepath.Join(dir, "nats-server")
	if _, err := os.Stat(bin); err == nil {
		return bin, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	// Built beside its final name and renamed, so that test binaries
	// building it at the same time never run a half-written file.
	tmp, err := os.MkdirTemp(dir, "build")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	out, err = exec.Command("go", "build", "-o", filepath.Join(tmp, "nats-server"), serverModule).CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("build nats-server: %w: %s", err, out)
	}
	return bin, os.Rename(filepath.Join(tmp, "nats-server"), bin)
}

func waitDial(addr string, exited <-chan struct{}, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if conn, err := net.Dial("tcp", addr); err == nil {
			conn.Close()
			return nil
		}
		select {
		case <-exited:
			return fmt.Errorf("exited before listening on %s", addr)
		case <-time.After(20 * time.Millisecond):
		}
	}
	return fmt.Errorf("not listening on %s within %v", addr, timeout)
}

// freePorts returns n TCP ports free on loopback at the moment.
func freePorts(t testing.TB, n int) []int {
	t.Helper()
	var ports []int
	var lns []net.Listener
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		lns = append(lns, ln)
		ports = append(ports, ln.Addr().(*net.TCPAddr).Port)
	}
	for _, ln := range lns {
		ln.Close()
	}
	return ports
}
