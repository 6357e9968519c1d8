package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/agentphone-connector/connector/journal/journaltest"
)

// The connector killed with SIGKILL while AgentPhone-like clients deliver
// webhooks, retrying every error and 5xx with a fresh signature: after a
// restart on the same data directory, every ID that was ever answered 2xx is
// in the journal exactly once, and so is every other ID delivered.
func TestKillNineLosesNothingAcknowledged(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := filepath.Join(t.TempDir(), "connector")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	env := baseEnv(t)
	env["CONNECTOR_HTTP_ADDR"] = freeAddr(t)
	env["CONNECTOR_NATS_LISTEN"] = "none"
	base := "http://" + env["CONNECTOR_HTTP_ADDR"]

	p := startProcess(t, bin, env)
	load := newLoad(base, []byte(fixture(t, "sms_inbound.json")), []byte(fixture(t, "call_ended.json")))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var wg sync.WaitGroup
	for w := range 16 {
		wg.Add(1)
		go func() { defer wg.Done(); load.worker(ctx, w) }()
	}
	load.waitAcked(t, 300)
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-p.done
	killedAt := load.ackedCount()

	p = startProcess(t, bin, env)
	load.waitAcked(t, killedAt+300)
	cancel() // workers finish the delivery in hand, as AgentPhone keeps retrying it
	wg.Wait()
	p.cmd.Process.Signal(syscall.SIGTERM)
	if err := <-p.done; err != nil {
		t.Fatalf("clean stop after restart: %v", err)
	}

	ids := journaltest.IDsIn(t, env["CONNECTOR_DATA_DIR"])
	for id := range load.acked {
		if ids[id] != 1 {
			t.Errorf("%s acknowledged, journaled %d times", id, ids[id])
		}
	}
	for id, n := range ids {
		if n != 1 {
			t.Errorf("%s journaled %d times", id, n)
		}
	}
	t.Logf("killed after %d acknowledgements; %d delivered in all, %d retries, %d journaled",
		killedAt, len(load.acked), load.retries, len(ids))
}

// load delivers unique IDs like AgentPhone: each until it gets a 2xx.
type load struct {
	base    string
	bodies  [][]byte
	mu      sync.Mutex
	acked   map[string]bool
	retries int
	more    chan struct{} // closed and replaced on every ack
}

func newLoad(base string, bodies ...[]byte) *load {
	return &load{base: base, bodies: bodies, acked: map[string]bool{}, more: make(chan struct{})}
}

func (l *load) worker(ctx context.Context, w int) {
	client := &http.Client{Timeout: 10 * time.Second}
	for n := 0; ctx.Err() == nil; n++ {
		id := fmt.Sprintf("whd_crash_%d_%d", w, n)
		// A call of its own per delivery: two call_ended of one call are one
		// event (its natural key), whatever their X-Webhook-IDs.
		body := bytes.ReplaceAll(l.bodies[n%len(l.bodies)], []byte(`"call_c0ffee"`), []byte(`"call_`+id+`"`))
		for attempt := 0; ; attempt++ {
			if l.deliver(client, id, body) {
				break
			}
			l.mu.Lock()
			l.retries++
			l.mu.Unlock()
			time.Sleep(20 * time.Millisecond) // the client's retry back-off, not synchronization
		}
	}
}

func (l *load) deliver(client *http.Client, id string, body []byte) bool {
	req := signedRequest(l.base, id, body, time.Now())
	resp, err := client.Do(req)
	if err != nil {
		return false
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return false
	}
	l.mu.Lock()
	l.acked[id] = true
	close(l.more)
	l.more = make(chan struct{})
	l.mu.Unlock()
	return true
}

func (l *load) ackedCount() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.acked)
}

func (l *load) waitAcked(t *testing.T, n int) {
	t.Helper()
	timeout := time.After(2 * time.Minute)
	for {
		l.mu.Lock()
		got, ch := len(l.acked), l.more
		l.mu.Unlock()
		if got >= n {
			return
		}
		select {
		case <-ch:
		case <-timeout:
			t.Fatalf("%d of %d deliveries acknowledged", got, n)
		}
	}
}

// process is the connector binary running.
type process struct {
	cmd  *exec.Cmd
	done chan error // receives the result of Wait
}

// startProcess runs the binary with env only and waits until it is ready.
func startProcess(t *testing.T, bin string, env map[string]string) *process {
	t.Helper()
	cmd := exec.Command(bin, "serve")
	cmd.Dir = t.TempDir()
	cmd.Env = []string{"PATH=" + os.Getenv("PATH")}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	logs := newLogLines()
	cmd.Stderr = logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &process{cmd: cmd, done: make(chan error, 1)}
	go func() { p.done <- cmd.Wait(); close(logs.exited) }()
	t.Cleanup(func() { cmd.Process.Kill() })
	logs.wait(t, "connector ready")
	return p
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}
