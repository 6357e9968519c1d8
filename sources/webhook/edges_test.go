package webhook

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/agentphone-connector/connector/dedupe"
	"github.com/agentphone-connector/connector/journal/journaltest"
)

// rawPost sends req as it is on a new connection to the rig's listener and
// returns the answer.
func rawPost(t *testing.T, r *rig, req string) (*http.Response, map[string]string) {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(r.url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := io.WriteString(conn, req); err != nil {
		t.Fatal(err)
	}
	conn.SetReadDeadline(time.Now().Add(30 * time.Second)) // a bound for the test
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]string
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatalf("answer is not a JSON object: %v", err)
	}
	return resp, body
}

// A signed delivery that carries both Transfer-Encoding and Content-Length,
// in either order, is refused: a proxy in front may have read a different
// body, and the connection is closed, since where the next request starts is
// ambiguous too.
func TestBothLengthsAreRefused(t *testing.T) {
	r := newRig(t, testConfig(), dedupe.Config{})
	body := readFixture(t, "sms_inbound.json")
	d := r.signed("whd_framing", body, testSecret)
	chunked := fmt.Sprintf("%x\r\n%s\r\n0\r\n\r\n", len(body), body)
	head := "POST " + PathPrefix + " HTTP/1.1\r\nHost: x\r\nX-Webhook-ID: " + d.id + "\r\nX-Webhook-Timestamp: " + d.ts + "\r\nX-Webhook-Signature: " + d.sig + "\r\n"
	for _, order := range []string{
		fmt.Sprintf("Transfer-Encoding: chunked\r\nContent-Length: %d\r\n", len(body)),
		fmt.Sprintf("Content-Length: %d\r\ntransfer-encoding: chunked\r\n", len(body)),
	} {
		before := testutil.ToFloat64(r.handler.metrics.rejections.WithLabelValues("project", "length_conflict"))
		resp, answer := rawPost(t, r, head+order+"\r\n"+chunked)
		if resp.StatusCode != http.StatusBadRequest || answer["error"] != "length_conflict" || answer["message"] == "" || !resp.Close {
			t.Errorf("%q: answered %d %v (close %v)", order, resp.StatusCode, answer, resp.Close)
		}
		if after := testutil.ToFloat64(r.handler.metrics.rejections.WithLabelValues("project", "length_conflict")); after != before+1 {
			t.Errorf("%q: length_conflict rejections went from %v to %v", order, before, after)
		}
	}
	if resp, answer := rawPost(t, r, head+"Transfer-Encoding: chunked\r\n\r\n"+chunked); resp.StatusCode != http.StatusOK {
		t.Fatalf("the same delivery chunked alone: %d %v", resp.StatusCode, answer)
	}
	if n := len(r.env.Events()); n != 1 {
		t.Fatalf("journal holds %d events, want 1", n)
	}
}

// The handler is ready only while some route can verify a delivery, or a
// route is held on purpose during a rotation.
func TestReady(t *testing.T) {
	env := func(kv ...string) func(string) (string, bool) {
		m := map[string]string{}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
	}
	for _, tc := range []struct {
		name    string
		secrets []Secret
		routes  []string
		lookup  func(string) (string, bool)
		want    error
	}{
		{"no secret anywhere", nil, nil, env(), ErrNoSecret},
		{"project secret", []Secret{testSecret}, nil, env("AGENTPHONE_WEBHOOK_SECRET", testSecret), nil},
		{"only a named route has one", nil, []string{"sales"}, env("AGENTPHONE_WEBHOOK_SECRET_SALES", "whsec_s"), nil},
		{"project held for a rotation", nil, nil, env("AGENTPHONE_WEBHOOK_SECRET", ""), nil},
		{"named route held, project unset", nil, []string{"sales"}, env("AGENTPHONE_WEBHOOK_SECRET_SALES", ""), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testConfig()
			cfg.Secrets, cfg.Routes = tc.secrets, tc.routes
			cfg.LoadRouteSecrets(tc.lookup)
			err := NewHandler(cfg, nil, Settings{Logger: journaltest.Discard()}).Ready(context.Background())
			if !errors.Is(err, tc.want) || (err == nil) != (tc.want == nil) {
				t.Fatalf("Ready = %v, want %v", err, tc.want)
			}
		})
	}
}

// syncBuffer is a bytes.Buffer safe for the listener's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) lines() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return strings.Split(strings.TrimSpace(s.b.String()), "\n")
}

// The listener and the handler log no line per request, at debug either:
// not fasthttp's warning about reading a streamed body whole, not one per
// rejection.
func TestNoLinePerRequest(t *testing.T) {
	var logs syncBuffer
	log := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	cfg := testConfig()
	cfg.MaxBodyBytes, cfg.RejectBudget = 4096, 1000
	r := &rig{env: journaltest.Start(t, nil), now: time.Unix(1772471081, 0)}
	g, err := dedupe.New(r.env.Journal, r.env.Config.DedupeWindow, dedupe.Config{}, dedupe.Settings{})
	if err != nil {
		t.Fatal(err)
	}
	r.handler = NewHandler(cfg, g, Settings{Logger: log, Now: func() time.Time { return r.now }})
	srv, err := Listen("127.0.0.1:0", r.handler, cfg, 2*time.Second, log)
	if err != nil {
		t.Fatal(err)
	}
	r.url = "http://" + srv.Addr()
	body := readFixture(t, "sms_inbound.json")
	for i := range 20 {
		r.post(t, r.signed("whd_quiet_"+strconv.Itoa(i%5), body, testSecret)) // accepted, then duplicates
		r.post(t, r.signed("whd_forged", body, "whsec_forger"))
		r.post(t, r.signed("whd_big", bytes.Repeat([]byte("x"), 5000), testSecret))
	}
	if err := srv.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	var other []string
	for _, l := range logs.lines() {
		if !strings.Contains(l, "webhook listener st") && !strings.Contains(l, "webhook requests rejected") {
			other = append(other, l)
		}
	}
	if all := logs.lines(); len(other) > 0 || len(all) > 4 {
		t.Fatalf("60 requests logged %d lines:\n%s", len(all), strings.Join(all, "\n"))
	}
}
