package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// target is one server under test, running as its own process.
type target struct {
	name    string
	cmd     *exec.Cmd
	url     string
	startup time.Duration // from the process's start until it was ready
}

const benchSecret = "whsec_bench_4c1a9e"

// startTarget starts the named server on the data directory dir and waits
// until it is ready: listening, and for the connector /readyz answering 200
// (its journal recovered and writable). env is added to the connector's
// environment.
func startTarget(ctx context.Context, name, connector, dir string, env ...string) (*target, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	addr, err := freePort()
	if err != nil {
		return nil, err
	}
	var cmd *exec.Cmd
	ready := func() error { return waitListening(ctx, addr) }
	switch name {
	case "verify":
		cmd = exec.Command(self, "baseline-verify", "--addr", addr, "--secret", benchSecret)
	case "verify+publish":
		cmd = exec.Command(self, "baseline-publish", "--addr", addr, "--secret", benchSecret, "--data-dir", dir)
	case "connector":
		admin, err := freePort()
		if err != nil {
			return nil, err
		}
		cmd = exec.Command(connector, "serve")
		cmd.Env = append(os.Environ(), "AGENTPHONE_WEBHOOK_SECRET="+benchSecret, "CONNECTOR_HTTP_ADDR="+addr,
			"CONNECTOR_ADMIN_ADDR="+admin, "CONNECTOR_DATA_DIR="+dir, "CONNECTOR_NATS_LISTEN=none", "CONNECTOR_LOG_LEVEL=warn",
			"CONNECTOR_NATS_START_TIMEOUT=5m")
		cmd.Env = append(cmd.Env, env...)
		ready = func() error { return waitReady(ctx, "http://"+admin+"/readyz") }
	default:
		return nil, fmt.Errorf("unknown target %q", name)
	}
	cmd.Stderr = os.Stderr
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	t := &target{name: name, cmd: cmd, url: "http://" + addr + "/webhooks/agentphone"}
	if err := ready(); err != nil {
		t.stop()
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	t.startup = time.Since(start)
	return t, nil
}

func (t *target) stop() {
	t.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { t.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.cmd.Process.Kill()
		<-done
	}
}

// cpu returns the process's user+system CPU time so far.
func (t *target) cpu() time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", t.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	// Fields after the command name, which is in parentheses and may hold spaces.
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+2:]))
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(utime+stime) * time.Second / 100 // USER_HZ is 100 on Linux
}

// rss returns the process's resident set size in bytes now.
func (t *target) rss() int64 { return t.status("VmRSS:") }

// peakRSS returns the process's peak resident set size in bytes.
func (t *target) peakRSS() int64 { return t.status("VmHWM:") }

// status returns a size field of /proc/<pid>/status in bytes.
func (t *target) status(field string) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", t.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, field); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}

func freePort() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// startWait is how long a target may take to start: recovering a store of
// millions of events included.
const startWait = 5 * time.Minute

func waitListening(ctx context.Context, addr string) error {
	deadline := time.Now().Add(startWait)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("not listening on %s", addr)
}

// waitReady polls url until it answers 200.
func waitReady(ctx context.Context, url string) error {
	deadline := time.Now().Add(startWait)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		if resp, err := http.Get(url); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("%s not 200 within %v", url, startWait)
}
