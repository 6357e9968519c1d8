package webhook

import (
	"context"
	"fmt"
	"io"
	"net"
	"testing"
	"time"

	"github.com/agentphone-connector/connector/journal/journaltest"
)

// A client that opens a request and stops sending is cut off by the read
// timeout instead of holding a connection (and a goroutine) forever.
func TestSlowClientIsCutOff(t *testing.T) {
	cfg := testConfig()
	cfg.ReadTimeout = time.Second
	srv, err := Listen("127.0.0.1:0", NewHandler(cfg, nil, Settings{Logger: journaltest.Discard()}), cfg, time.Second, journaltest.Discard())
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Shutdown(context.Background())
	for _, partial := range []string{
		"POST /webhooks/agentphone HTTP/1.1\r\nHost: x\r\n",                             // headers never end
		"POST /webhooks/agentphone HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{", // body never ends
	} {
		conn, err := net.Dial("tcp", srv.Addr())
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprint(conn, partial)
		conn.SetReadDeadline(time.Now().Add(30 * time.Second)) // a bound for the test, far above the timeout
		_, err = io.ReadAll(conn)
		if ne, ok := err.(net.Error); ok && ne.Timeout() {
			t.Fatalf("%q: the server kept the connection open", partial)
		}
		conn.Close()
	}
}

func TestServerCloseWithoutRequests(t *testing.T) {
	srv, err := Listen("127.0.0.1:0", NewHandler(testConfig(), nil, Settings{Logger: journaltest.Discard()}), testConfig(), time.Second, journaltest.Discard())
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := net.Dial("tcp", srv.Addr()); err == nil {
		t.Fatal("still listening after Shutdown")
	}
}

// A connection opened and never used is closed at the read timeout without
// an answer nobody asked for.
func TestIdleNewConnectionGetsNoAnswer(t *testing.T) {
	cfg := testConfig()
	cfg.ReadTimeout = time.Second
	srv, err := Listen("127.0.0.1:0", NewHandler(cfg, nil, Settings{Logger: journaltest.Discard()}), cfg, time.Second, journaltest.Discard())
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Shutdown(context.Background())
	conn, err := net.Dial("tcp", srv.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetReadDeadline(time.Now().Add(30 * time.Second)) // a bound for the test, far above the timeout
	got, err := io.ReadAll(conn)
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Fatal("the server kept the idle connection open")
	}
	if len(got) != 0 {
		t.Fatalf("the server answered a request nobody sent: %q", got)
	}
}
