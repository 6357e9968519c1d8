package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sethvargo/go-envconfig"
)

// logLines collects the JSON log lines a command writes and lets a test wait
// for one.
type logLines struct {
	exited  chan struct{} // closed when the command has returned
	mu      sync.Mutex
	partial []byte
	lines   []map[string]any
	changed chan struct{}
}

func newLogLines() *logLines {
	return &logLines{changed: make(chan struct{}), exited: make(chan struct{})}
}

func (l *logLines) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.partial = append(l.partial, p...)
	for {
		i := bytes.IndexByte(l.partial, '\n')
		if i < 0 {
			break
		}
		var m map[string]any
		if json.Unmarshal(l.partial[:i], &m) == nil {
			l.lines = append(l.lines, m)
		} else {
			l.lines = append(l.lines, map[string]any{"msg": string(l.partial[:i])})
		}
		l.partial = l.partial[i+1:]
	}
	close(l.changed)
	l.changed = make(chan struct{})
	return len(p), nil
}

// wait returns the first line whose msg is msg, failing the test if the
// command exits without writing it, or after 30 s.
func (l *logLines) wait(t *testing.T, msg string) map[string]any {
	t.Helper()
	timeout := time.After(30 * time.Second)
	for {
		m, ch := l.find(msg)
		if m != nil {
			return m
		}
		select {
		case <-ch:
		case <-l.exited:
			if m, _ := l.find(msg); m != nil {
				return m
			}
			t.Fatalf("exited without log line %q; got %s", msg, l)
		case <-timeout:
			t.Fatalf("no log line %q; got %s", msg, l)
		}
	}
}

// find returns the line with msg, or a channel closed at the next write.
func (l *logLines) find(msg string) (map[string]any, chan struct{}) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, m := range l.lines {
		if m["msg"] == msg {
			return m, nil
		}
	}
	return nil, l.changed
}

func (l *logLines) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	b, _ := json.Marshal(l.lines)
	return string(b)
}

// serving is `connector serve` running in process.
type serving struct {
	webhooks, admin, nats string
	dataDir               string
	stop                  context.CancelFunc
	exit                  chan int
	logs                  *logLines
}

func baseEnv(t *testing.T) map[string]string {
	return map[string]string{
		"AGENTPHONE_WEBHOOK_SECRET": testSecret,
		"CONNECTOR_HTTP_ADDR":       "127.0.0.1:0",
		"CONNECTOR_ADMIN_ADDR":      "127.0.0.1:0",
		"CONNECTOR_NATS_LISTEN":     "127.0.0.1:0",
		"CONNECTOR_DATA_DIR":        t.TempDir(),
		"CONNECTOR_LOG_LEVEL":       "debug",
	}
}

func startServe(t *testing.T, env map[string]string) *serving {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	s := &serving{stop: cancel, exit: make(chan int, 1), logs: newLogLines(), dataDir: env["CONNECTOR_DATA_DIR"]}
	go func() {
		s.exit <- Main(ctx, []string{"serve"}, envconfig.MapLookuper(env), &bytes.Buffer{}, s.logs)
		close(s.logs.exited)
	}()
	ready := s.logs.wait(t, "connector ready")
	s.webhooks, s.admin = "http://"+ready["webhooks"].(string), "http://"+ready["admin"].(string)
	s.nats, _ = ready["nats"].(string)
	t.Cleanup(func() { s.shutdown(t) })
	return s
}

// shutdown cancels the command, as SIGTERM does, and waits for it to exit.
func (s *serving) shutdown(t *testing.T) int {
	t.Helper()
	s.stop()
	select {
	case code := <-s.exit:
		s.exit <- code // later calls see it too
		return code
	case <-time.After(60 * time.Second):
		t.Fatal("serve did not stop")
		return -1
	}
}

func run(t *testing.T, env map[string]string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = Main(context.Background(), args, envconfig.MapLookuper(env), &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestConfigNeverPrintsSecrets(t *testing.T) {
	env := map[string]string{
		"AGENTPHONE_WEBHOOK_SECRET":       "whsec_projectsecret",
		"AGENTPHONE_WEBHOOK_ROUTES":       "sales",
		"AGENTPHONE_WEBHOOK_SECRET_SALES": "whsec_salessecret",
		"NATS_URL":                        "nats://user:natspassword@127.0.0.1:1",
	}
	for _, args := range [][]string{{"config"}, {"help"}, {"config", "--markdown"}} {
		code, stdout, stderr := run(t, env, args...)
		if code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, stderr)
		}
		for _, secret := range []string{"projectsecret", "salessecret"} {
			if strings.Contains(stdout+stderr, secret) {
				t.Fatalf("%v printed a secret:\n%s", args, stdout)
			}
		}
		for _, v := range envVars() {
			if !strings.Contains(stdout, v.Name) {
				t.Errorf("%v does not list %s", args, v.Name)
			}
		}
	}
	// A failed start must not leak them either.
	_, _, stderr := run(t, env, "serve")
	if strings.Contains(stderr, "natspassword") || strings.Contains(stderr, "projectsecret") {
		t.Fatalf("start-up error leaked a secret: %s", stderr)
	}
}

func TestUnknownCommand(t *testing.T) {
	if code, _, stderr := run(t, nil, "frobnicate"); code != 2 || !strings.Contains(stderr, "usage") {
		t.Fatalf("exit %d: %s", code, stderr)
	}
}

func TestServeAnswersAndStops(t *testing.T) {
	s := startServe(t, baseEnv(t))
	if resp := get(t, s.admin+"/readyz"); resp != http.StatusOK {
		t.Fatalf("readyz %d", resp)
	}
	if resp := get(t, s.admin+"/healthz"); resp != http.StatusOK {
		t.Fatalf("healthz %d", resp)
	}
	if code := post(t, s.webhooks, "whd_1", time.Now()); code != http.StatusOK {
		t.Fatalf("webhook %d", code)
	}
	if code := s.shutdown(t); code != 0 {
		t.Fatalf("exit %d: %s", code, s.logs)
	}
	s.logs.wait(t, "embedded nats-server stopped")
}

func get(t *testing.T, url string) int {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

var updateReadme = flag.Bool("update-readme", false, "rewrite the generated tables of README.md")
