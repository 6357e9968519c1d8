// Package natsservertest runs a real NATS cluster for tests: nats-server
// nodes with JetStream, in process, routed to each other on loopback, each
// with its own store. A node can be killed and started again on the same
// ports and store, as a crash and a restart would.
package natsservertest

import (
	"fmt"
	"net"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// Cluster is a running set of routed nats-server nodes. Its methods are safe
// for concurrent use.
type Cluster struct {
	t     testing.TB
	mu    sync.Mutex
	nodes []*node
}

type node struct {
	opts *server.Options
	srv  *server.Server // nil while stopped
}

// StartCluster starts n nodes and waits until they are routed to each other
// and JetStream has a meta leader. Every node is shut down when the test
// ends.
func StartCluster(t testing.TB, n int) *Cluster {
	t.Helper()
	c := StartNodes(t, n, n)
	c.WaitForMetaLeader(30 * time.Second)
	return c
}

// StartNodes prepares n nodes and starts the first `start` of them; Start
// starts the others. A cluster started short of its nodes is one still
// forming: JetStream has no meta leader until a majority runs.
func StartNodes(t testing.TB, n, start int) *Cluster {
	t.Helper()
	client, routes := freePorts(t, n), freePorts(t, n)
	var routeURLs []string
	for _, p := range routes {
		routeURLs = append(routeURLs, fmt.Sprintf("nats://127.0.0.1:%d", p))
	}
	c := &Cluster{t: t}
	for i := range n {
		c.nodes = append(c.nodes, &node{opts: &server.Options{
			ServerName: fmt.Sprintf("n%d", i+1),
			Host:       "127.0.0.1",
			Port:       client[i],
			NoSigs:     true,
			MaxPayload: 8 << 20,
			JetStream:  true,
			StoreDir:   t.TempDir(),
			Cluster:    server.ClusterOpts{Name: "test", Host: "127.0.0.1", Port: routes[i]},
			Routes:     server.RoutesFromStr(strings.Join(routeURLs, ",")),
		}})
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

// Start starts node i (0-based) on its ports and store.
func (c *Cluster) Start(i int) {
	c.t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	nd := c.nodes[i]
	if nd.srv != nil {
		return
	}
	opts := *nd.opts
	srv, err := server.NewServer(&opts)
	if err != nil {
		c.t.Fatalf("node %s: %v", nd.opts.ServerName, err)
	}
	go srv.Start()
	if !srv.ReadyForConnections(30 * time.Second) {
		srv.Shutdown()
		c.t.Fatalf("node %s not ready", nd.opts.ServerName)
	}
	nd.srv = srv
}

// Kill stops node i at once, as a crash would for its clients and peers.
func (c *Cluster) Kill(i int) {
	c.mu.Lock()
	srv := c.nodes[i].srv
	c.nodes[i].srv = nil
	c.mu.Unlock()
	if srv != nil {
		srv.Shutdown()
		srv.WaitForShutdown()
	}
}

// Name returns node i's server name.
func (c *Cluster) Name(i int) string { return c.nodes[i].opts.ServerName }

// Index returns the index of the node named name, or -1.
func (c *Cluster) Index(name string) int {
	for i, nd := range c.nodes {
		if nd.opts.ServerName == name {
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
		urls = append(urls, (&url.URL{Scheme: "nats", Host: fmt.Sprintf("127.0.0.1:%d", nd.opts.Port)}).String())
	}
	return strings.Join(urls, ",")
}

// WaitForMetaLeader waits until a running node reports a JetStream meta
// leader that every running node agrees is current.
func (c *Cluster) WaitForMetaLeader(timeout time.Duration) {
	c.t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if c.metaLeaderElected() {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	c.t.Fatalf("no JetStream meta leader within %v", timeout)
}

func (c *Cluster) metaLeaderElected() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	leader := false
	for _, nd := range c.nodes {
		if nd.srv == nil {
			continue
		}
		if !nd.srv.JetStreamIsCurrent() {
			return false
		}
		leader = leader || nd.srv.JetStreamIsLeader()
	}
	return leader
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
