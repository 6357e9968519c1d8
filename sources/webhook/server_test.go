package webhook

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
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

// A body over the limit is refused as soon as it is over, whether its length
// is declared or it comes chunked: the client gets its 413 while it still
// has most of the body to send, and the server has read no more than the
// limit and what was already on its way.
func TestBodyOverLimitIsRefusedBeforeItEnds(t *testing.T) {
	cfg := testConfig()
	cfg.MaxBodyBytes = 4096
	srv, err := Listen("127.0.0.1:0", NewHandler(cfg, nil, Settings{Logger: journaltest.Discard()}), cfg, time.Second, journaltest.Discard())
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Shutdown(context.Background())
	part := strings.Repeat("x", 64<<10) // sent; the rest of the 50 MB never is
	for _, tc := range []struct{ name, header, body string }{
		{"declared length", "Content-Length: 52428800\r\n", part},
		{"chunked", "Transfer-Encoding: chunked\r\n", fmt.Sprintf("%x\r\n%s\r\n", len(part), part)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			conn, err := net.Dial("tcp", srv.Addr())
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: x\r\nX-Webhook-Timestamp: 1\r\nX-Webhook-Signature: sha256=00\r\n%s\r\n%s", PathPrefix, tc.header, tc.body)
			// A bound for the test only: a server that waits for the whole
			// body answers after its read timeout (30 s), if at all.
			conn.SetReadDeadline(time.Now().Add(10 * time.Second))
			resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
			if err != nil {
				t.Fatalf("no answer while the body was still coming: %v", err)
			}
			b, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(string(b), "body_too_large") {
				t.Fatalf("answered %d %s", resp.StatusCode, b)
			}
		})
	}
}
