package main

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/agentphone-connector/connector/journal/journaltest"
)

// SIGTERM stops taking new webhooks, finishes the one being received, and
// closes the journal with that event in it.
func TestShutdownFinishesRequestsInFlight(t *testing.T) {
	env := baseEnv(t)
	s := startServe(t, env)
	host := strings.TrimPrefix(s.webhooks, "http://")
	body := fixture(t, "call_ended.json")
	ts := strconv.FormatInt(time.Now().Unix(), 10)

	conn, err := net.Dial("tcp", host)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /webhooks/agentphone HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\nExpect: 100-continue\r\n"+
		"X-Webhook-ID: whd_inflight\r\nX-Webhook-Timestamp: %s\r\nX-Webhook-Signature: %s\r\n\r\n", len(body), ts, sign(ts, body))
	rd := bufio.NewReader(conn)
	// The server answers 100 Continue when the handler starts reading the
	// body: from here the request is in flight.
	if line, err := rd.ReadString('\n'); err != nil || !strings.Contains(line, "100 Continue") {
		t.Fatalf("no 100 Continue: %q %v", line, err)
	}
	rd.ReadString('\n')
	half := len(body) / 2
	conn.Write(body[:half])

	s.stop()
	s.logs.wait(t, "shutting down: no new webhooks, finishing those in flight")
	waitRefused(t, host)
	if code := get(t, s.admin+"/readyz"); code != http.StatusServiceUnavailable {
		// The admin listener may already be gone, which get reports as a failure.
		t.Fatalf("readyz while draining: %d", code)
	}

	conn.Write(body[half:])
	resp, err := http.ReadResponse(rd, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("in-flight request answered %d", resp.StatusCode)
	}
	if code := s.shutdown(t); code != 0 {
		t.Fatalf("exit %d", code)
	}
	if ids := journaltest.IDsIn(t, env["CONNECTOR_DATA_DIR"]); ids["whd_inflight"] != 1 || len(ids) != 1 {
		t.Fatalf("journal after shutdown: %v", ids)
	}
}

// waitRefused waits until the listener no longer accepts connections.
func waitRefused(t *testing.T, host string) {
	t.Helper()
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	timeout := time.After(30 * time.Second)
	for {
		c, err := net.Dial("tcp", host)
		if err != nil {
			return
		}
		c.Close()
		select {
		case <-tick.C:
		case <-timeout:
			t.Fatal("the webhook listener still accepts connections")
		}
	}
}
