package main

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sethvargo/go-envconfig"

	"github.com/agentphone-connector/connector/journal/journaltest"
	"github.com/agentphone-connector/connector/natsserver"
)

// With NATS_URL the connector journals into that server, and /readyz and the
// webhook answers follow the server's availability.
func TestExternalNATS(t *testing.T) {
	nats := journaltest.Start(t, nil)
	env := baseEnv(t)
	env["NATS_URL"] = nats.Server.ClientURL()
	env["NATS_USER"], env["NATS_PASSWORD"] = nats.Credentials(natsserver.ConnectorUser)
	env["CONNECTOR_JOURNAL_APPEND_TIMEOUT"] = "1s"
	s := startServe(t, env)
	if code := post(t, s.webhooks, "whd_ext_1", time.Now()); code != 200 {
		t.Fatalf("webhook %d", code)
	}
	if got := nats.Events(); len(got) != 1 || got[0].Event.ID != "whd_ext_1" {
		t.Fatalf("external journal holds %d events", len(got))
	}

	nats.Stop()
	waitStatus(t, s.admin+"/readyz", http.StatusServiceUnavailable)
	if code := post(t, s.webhooks, "whd_ext_2", time.Now()); code != http.StatusServiceUnavailable {
		t.Fatalf("webhook during the outage: %d", code)
	}
	nats.Restart()
	waitStatus(t, s.admin+"/readyz", http.StatusOK)
	if code := post(t, s.webhooks, "whd_ext_2", time.Now()); code != 200 {
		t.Fatalf("webhook after the outage: %d", code)
	}
	if got := nats.Events(); len(got) != 2 {
		t.Fatalf("external journal holds %d events, want 2", len(got))
	}
}

// waitStatus polls url until it answers code.
func waitStatus(t *testing.T, url string, code int) {
	t.Helper()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	timeout := time.After(30 * time.Second)
	for get(t, url) != code {
		select {
		case <-tick.C:
		case <-timeout:
			t.Fatalf("%s never answered %d", url, code)
		}
	}
}

// lineWriter signals every line written to it.
type lineWriter struct {
	mu    sync.Mutex
	buf   bytes.Buffer
	lines chan string
}

func (w *lineWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	for {
		line, err := w.buf.ReadString('\n')
		if err != nil {
			w.buf.Reset()
			w.buf.WriteString(line)
			return len(p), nil
		}
		w.lines <- strings.TrimSuffix(line, "\n")
	}
}

func TestTailPrintsEvents(t *testing.T) {
	env := baseEnv(t)
	s := startServe(t, env)
	env["CONNECTOR_NATS_LISTEN"] = strings.TrimPrefix(s.nats, "nats://")
	if code := post(t, s.webhooks, "whd_before", time.Now()); code != 200 {
		t.Fatalf("webhook %d", code)
	}
	ctx, cancel := context.WithCancel(context.Background())
	out := &lineWriter{lines: make(chan string, 10)}
	done := make(chan int)
	go func() {
		done <- Main(ctx, []string{"tail", "--all", "agentphone.message.>"}, envconfig.MapLookuper(env), out, &bytes.Buffer{})
	}()
	if line := <-out.lines; !strings.Contains(line, "id=whd_before") || !strings.Contains(line, "agent.message  sms") {
		t.Fatalf("first line: %q", line)
	}
	if code := post(t, s.webhooks, "whd_after", time.Now()); code != 200 {
		t.Fatalf("webhook %d", code)
	}
	if line := <-out.lines; !strings.Contains(line, "id=whd_after") {
		t.Fatalf("second line: %q", line)
	}
	cancel()
	if code := <-done; code != 0 {
		t.Fatalf("tail exit %d", code)
	}
}
