package deploy

import (
	"bufio"
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"debug/elf"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// nonroot is the uid and gid the image runs as (distroless nonroot).
const nonroot = 65532

// connectorBin is the static binary the tests run, built once by TestMain
// as the Dockerfile builds it.
var connectorBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "deploytest")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	connectorBin = filepath.Join(dir, "connector")
	code := 1
	if err := buildStatic(connectorBin); err != nil {
		fmt.Fprintln(os.Stderr, "build connector:", err)
	} else {
		code = m.Run()
	}
	os.RemoveAll(dir)
	os.Exit(code)
}

// buildStatic builds cmd/connector with the Dockerfile's flags into out, in a
// directory anyone may enter (the tests run it as the image's user).
func buildStatic(out string) error {
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags", "-s -w", "-o", out, "../cmd/connector")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%w: %s", err, b)
	}
	return os.Chmod(filepath.Dir(out), 0o755)
}

func TestBinaryIsStatic(t *testing.T) {
	f, err := elf.Open(connectorBin)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Error("the binary asks for a dynamic loader: it would not run on distroless static or scratch")
		}
	}
	if libs, _ := f.ImportedLibraries(); len(libs) > 0 {
		t.Errorf("the binary links %v", libs)
	}
	fi, err := os.Stat(connectorBin)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("static binary: %d bytes (%.1f MiB)", fi.Size(), float64(fi.Size())/(1<<20))
}

// emptyDir returns a new directory the connector may read and not write, as
// the image's root file system is under readOnlyRootFilesystem.
func emptyDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp(t.TempDir(), "cwd")
	if err != nil {
		t.Fatal(err)
	}
	openUp(t, dir, 0o555)
	return dir
}

// dataDir returns a new directory the connector may write: the image's /data.
func dataDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp(t.TempDir(), "data")
	if err != nil {
		t.Fatal(err)
	}
	openUp(t, dir, 0o700)
	if os.Geteuid() == 0 {
		if err := os.Chown(dir, nonroot, nonroot); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// openUp sets dir's mode and lets everyone through its parents up to the
// system's temporary directory, so the image's user can reach it.
func openUp(t *testing.T, dir string, mode os.FileMode) {
	t.Helper()
	if err := os.Chmod(dir, mode); err != nil {
		t.Fatal(err)
	}
	for p := filepath.Dir(dir); strings.HasPrefix(p, os.TempDir()) && p != os.TempDir(); p = filepath.Dir(p) {
		if err := os.Chmod(p, 0o755); err != nil {
			t.Fatal(err)
		}
	}
}

// process is a running connector.
type process struct {
	cmd            *exec.Cmd
	logs           *logLines
	exited         chan struct{}
	err            error // Wait's, once exited is closed
	webhook, admin string
}

// startConnector runs the binary with exactly env (no HOME, no PATH) in dir,
// as the image's user when the test runs as root, and waits for its
// "connector ready" line. It is killed when the test ends if still running.
func startConnector(t *testing.T, dir string, env ...string) *process {
	t.Helper()
	p := &process{cmd: exec.Command(connectorBin, "serve"), logs: newLogLines(), exited: make(chan struct{})}
	p.cmd.Dir, p.cmd.Env = dir, env
	p.cmd.Stderr = p.logs
	if os.Geteuid() == 0 {
		p.cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: nonroot, Gid: nonroot}}
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.err = p.cmd.Wait(); close(p.exited) }()
	t.Cleanup(func() {
		select {
		case <-p.exited:
		default:
			_ = p.cmd.Process.Kill()
			<-p.exited
		}
		if t.Failed() {
			t.Logf("connector log:\n%s", p.logs)
		}
	})
	ready := p.logs.wait(t, p.exited, "connector ready")
	p.webhook, p.admin = "http://"+fmt.Sprint(ready["webhooks"]), "http://"+fmt.Sprint(ready["admin"])
	return p
}

// waitReady polls /readyz until it answers 200.
func (p *process) waitReady(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		code, body := get(t, p.admin+"/readyz")
		if code == http.StatusOK {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("/readyz still %d %s", code, body)
		}
		select {
		case <-p.exited:
			t.Fatalf("exited before ready: %v", p.err)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// stop sends SIGTERM and waits for the process to exit; it fails the test
// unless the exit is clean.
func (p *process) stop(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.exited:
	case <-time.After(60 * time.Second):
		t.Fatal("still running a minute after SIGTERM")
	}
	if p.err != nil {
		t.Fatalf("exit after SIGTERM: %v", p.err)
	}
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// deliver posts body as AgentPhone does, signed with secret, and returns
// the status code and the answer's status field.
func deliver(base, secret, id string, body []byte) (int, string, error) {
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(ts + "."))
	m.Write(body)
	req, err := http.NewRequest(http.MethodPost, base+"/webhooks/agentphone", bytes.NewReader(body))
	if err != nil {
		return 0, "", err
	}
	req.Header.Set("X-Webhook-ID", id)
	req.Header.Set("X-Webhook-Timestamp", ts)
	req.Header.Set("X-Webhook-Signature", "sha256="+hex.EncodeToString(m.Sum(nil)))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	var answer struct{ Status string }
	err = json.NewDecoder(resp.Body).Decode(&answer)
	return resp.StatusCode, answer.Status, err
}

// smsBody is the SMS webhook fixture.
func smsBody(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile("../testdata/agentphone/sms_inbound.json")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// logLines collects a process's JSON log lines and lets a test wait for one.
type logLines struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	lines   []map[string]any
	changed chan struct{}
}

func newLogLines() *logLines { return &logLines{changed: make(chan struct{})} }

func (l *logLines) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf.Write(p)
	l.lines = l.lines[:0]
	sc := bufio.NewScanner(bytes.NewReader(l.buf.Bytes()))
	for sc.Scan() {
		var m map[string]any
		if json.Unmarshal(sc.Bytes(), &m) == nil {
			l.lines = append(l.lines, m)
		}
	}
	close(l.changed)
	l.changed = make(chan struct{})
	return len(p), nil
}

func (l *logLines) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// find returns the first line whose msg is msg, or a channel closed at the
// next write.
func (l *logLines) find(msg string) (map[string]any, <-chan struct{}) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, m := range l.lines {
		if m["msg"] == msg {
			return m, nil
		}
	}
	return nil, l.changed
}

// wait returns the line with msg, failing the test if the process exits
// first or after a minute.
func (l *logLines) wait(t *testing.T, exited <-chan struct{}, msg string) map[string]any {
	t.Helper()
	timeout := time.After(time.Minute)
	for {
		m, ch := l.find(msg)
		if m != nil {
			return m
		}
		select {
		case <-ch:
		case <-exited:
			if m, _ := l.find(msg); m != nil {
				return m
			}
			t.Fatalf("exited without log line %q", msg)
		case <-timeout:
			t.Fatalf("no log line %q after a minute", msg)
		}
	}
}
