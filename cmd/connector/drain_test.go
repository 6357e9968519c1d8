package main

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kmsg"

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

// SIGTERM while a sink's target hangs (it takes produce requests and never
// answers), with events waiting for it: serve exits within
// CONNECTOR_SHUTDOWN_TIMEOUT, the batch in hand left to the next holder.
func TestShutdownWithinTimeoutWithTargetHanging(t *testing.T) {
	kc, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(2, "agentphone.events"))
	if err != nil {
		t.Fatal(err)
	}
	defer kc.Close()
	hang, produced := make(chan struct{}), make(chan struct{}, 1)
	defer close(hang)
	kc.ControlKey(int16(kmsg.Produce), func(kmsg.Request) (kmsg.Response, error, bool) {
		kc.KeepControl()
		select {
		case produced <- struct{}{}:
		default:
		}
		kc.SleepControl(func() { <-hang })
		return nil, errors.New("broker gone"), true
	})
	env := baseEnv(t)
	env["CONNECTOR_KAFKA_BROKERS"] = strings.Join(kc.ListenAddrs(), ",")
	env["CONNECTOR_KAFKA_BATCH_TIMEOUT"] = "10ms"
	env["CONNECTOR_KAFKA_REQUEST_TIMEOUT"] = "60s"
	env["CONNECTOR_SHUTDOWN_TIMEOUT"] = "3s"
	s := startServe(t, env)
	for i := range 5 {
		if code := post(t, s.webhooks, fmt.Sprintf("whd_hang_%d", i), time.Now()); code != http.StatusOK {
			t.Fatalf("webhook answered %d", code)
		}
	}
	<-produced // a write is in flight, and will not come back
	begin := time.Now()
	if code := s.shutdown(t); code != 0 {
		t.Fatalf("exit %d", code)
	}
	if took := time.Since(begin); took > 3*time.Second+time.Second {
		t.Fatalf("shutdown took %s with CONNECTOR_SHUTDOWN_TIMEOUT=3s", took)
	}
}
