package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	connector "github.com/agentphone-connector/connector"
	"github.com/agentphone-connector/connector/dedupe"
	"github.com/agentphone-connector/connector/journal/journaltest"
)

const testSecret = "whsec_test_5f2b8c1e9a7d4"

// rig is a webhook handler journaling into a real journal, served over HTTP
// by the server production uses (fasthttp) or, with netHTTP, by net/http.
type rig struct {
	env     *journaltest.Env
	handler *Handler
	url     string
	now     time.Time
}

func newRig(t *testing.T, cfg Config, dcfg dedupe.Config) *rig {
	t.Helper()
	env := journaltest.Start(t, nil)
	r := &rig{env: env, now: time.Unix(1772471081, 0)}
	r.handler = r.newHandler(t, cfg, dcfg)
	r.url = serve(t, r.handler, cfg)
	return r
}

// serve serves h as the connector does and returns its base URL.
func serve(t *testing.T, h *Handler, cfg Config) string {
	t.Helper()
	srv, err := Listen("127.0.0.1:0", h, cfg, 2*time.Second, journaltest.Discard())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Shutdown(context.Background()) })
	return "http://" + srv.Addr()
}

// newHandler returns a handler with its own guard, as a separate process
// (a replica, or the connector after a restart) would have.
func (r *rig) newHandler(t *testing.T, cfg Config, dcfg dedupe.Config) *Handler {
	g, err := dedupe.New(r.env.Journal, r.env.Config.DedupeWindow, dcfg, dedupe.Settings{Now: func() time.Time { return r.now }})
	if err != nil {
		t.Fatal(err)
	}
	return NewHandler(cfg, g, Settings{Logger: journaltest.Discard(), Now: func() time.Time { return r.now }})
}

func testConfig() Config {
	return Config{
		Secrets: []Secret{testSecret}, MaxBodyBytes: 1 << 20, Tolerance: 5 * time.Minute,
		ReadTimeout: 30 * time.Second, IdleTimeout: time.Minute, RetryAfter: 30 * time.Second,
	}
}

// delivery is one POST as AgentPhone makes it.
type delivery struct {
	path   string
	id     string
	ts     string
	sig    string
	body   []byte
	header http.Header
}

// signed returns a delivery of body signed with secret at the rig's clock.
func (r *rig) signed(id string, body []byte, secret string) delivery {
	ts := strconv.FormatInt(r.now.Unix(), 10)
	return delivery{path: PathPrefix, id: id, ts: ts, sig: sign(secret, ts, body), body: body}
}

type answer struct {
	code       int
	body       map[string]string
	retryAfter string
}

func (r *rig) post(t *testing.T, d delivery) answer {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, r.url+d.path, bytes.NewReader(d.body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range d.header {
		req.Header[k] = v
	}
	for k, v := range map[string]string{"X-Webhook-ID": d.id, "X-Webhook-Timestamp": d.ts, "X-Webhook-Signature": d.sig} {
		if v != "" {
			req.Header.Set(k, v)
		}
	}
	req.Header.Set("Content-Type", "application/json")
	return do(t, req)
}

func do(t *testing.T, req *http.Request) answer {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	a := answer{code: resp.StatusCode, retryAfter: resp.Header.Get("Retry-After")}
	raw, _ := io.ReadAll(resp.Body)
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Fatalf("Content-Type %q, body %s", ct, raw)
	}
	if err := json.Unmarshal(raw, &a.body); err != nil {
		t.Fatalf("answer is not a JSON object: %s", raw)
	}
	return a
}

func TestEveryFixtureIsJournaled(t *testing.T) {
	r := newRig(t, testConfig(), dedupe.Config{CacheSize: 100})
	fx := loadFixtures(t)
	r.now = time.Unix(fx.Now, 0)
	want := map[string]string{}
	for _, v := range fx.Vectors {
		if !v.Valid || v.WebhookID == "" {
			continue
		}
		body := readFixture(t, v.File)
		a := r.post(t, delivery{path: PathPrefix, id: v.WebhookID, ts: v.Timestamp, sig: v.Signature, body: body})
		if a.code != http.StatusOK || a.body["status"] != "accepted" || a.body["id"] != v.WebhookID {
			t.Fatalf("%s: answered %d %v", v.Name, a.code, a.body)
		}
		want[v.WebhookID] = string(body)
	}
	got := r.env.Events()
	if len(got) != len(want) {
		t.Fatalf("journal holds %d events, want %d", len(got), len(want))
	}
	for _, s := range got {
		if s.MsgID != s.Event.ID {
			t.Errorf("Nats-Msg-Id %q, event ID %q", s.MsgID, s.Event.ID)
		}
		if string(s.Event.Raw) != want[s.Event.ID] {
			t.Errorf("%s: raw body changed:\n%s", s.Event.ID, s.Event.Raw)
		}
		if s.Event.Source != "agentphone/webhook/project" {
			t.Errorf("%s: source %q", s.Event.ID, s.Event.Source)
		}
		if !strings.HasPrefix(s.Subject, "agentphone.") || s.Subject != s.Event.SubjectIn("agentphone") {
			t.Errorf("%s: subject %q", s.Event.ID, s.Subject)
		}
	}
}

func TestRejections(t *testing.T) {
	cfg := testConfig()
	cfg.MaxBodyBytes = 4096
	cfg.Routes = []string{"nosecret"}
	cfg.RouteSecrets = map[string][]Secret{"nosecret": nil}
	r := newRig(t, cfg, dedupe.Config{})
	body := readFixture(t, "sms_inbound.json")
	ok := r.signed("whd_1", body, testSecret)
	stale := r.signed("whd_1", body, testSecret)
	stale.ts = strconv.FormatInt(r.now.Add(-6*time.Minute).Unix(), 10)
	stale.sig = sign(testSecret, stale.ts, body)
	future := stale
	future.ts = strconv.FormatInt(r.now.Add(6*time.Minute).Unix(), 10)
	future.sig = sign(testSecret, future.ts, body)
	big := bytes.Repeat([]byte("x"), 4097)

	tests := []struct {
		name   string
		method string
		d      delivery
		chunk  bool // send without Content-Length
		code   int
		route  string
		reason string
	}{
		{"wrong method", http.MethodGet, ok, false, 405, "project", "method"},
		{"unknown route", http.MethodPost, with(ok, func(d *delivery) { d.path = PathPrefix + "/nope" }), false, 404, "-", "unknown_route"},
		{"other path", http.MethodPost, with(ok, func(d *delivery) { d.path = "/webhooks/other" }), false, 404, "-", "unknown_route"},
		{"route without secret", http.MethodPost, with(ok, func(d *delivery) { d.path = PathPrefix + "/nosecret" }), false, 503, "nosecret", "no_secret"},
		{"missing signature", http.MethodPost, with(ok, func(d *delivery) { d.sig = "" }), false, 401, "project", "missing_signature"},
		{"missing timestamp", http.MethodPost, with(ok, func(d *delivery) { d.ts = "" }), false, 401, "project", "missing_timestamp"},
		{"timestamp not a number", http.MethodPost, with(ok, func(d *delivery) { d.ts = "yesterday" }), false, 401, "project", "bad_timestamp"},
		{"malformed signature", http.MethodPost, with(ok, func(d *delivery) { d.sig = "sha256=abc" }), false, 401, "project", "malformed_signature"},
		{"wrong secret", http.MethodPost, r.signed("whd_1", body, "whsec_other"), false, 401, "project", "bad_signature"},
		{"body changed", http.MethodPost, with(ok, func(d *delivery) { d.body = append([]byte(" "), body...) }), false, 401, "project", "bad_signature"},
		{"stale timestamp", http.MethodPost, stale, false, 401, "project", "stale_timestamp"},
		{"future timestamp", http.MethodPost, future, false, 401, "project", "future_timestamp"},
		{"too large", http.MethodPost, r.signed("whd_2", big, testSecret), false, 413, "project", "body_too_large"},
		{"too large without length", http.MethodPost, r.signed("whd_2", big, testSecret), true, 413, "project", "body_too_large"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := testutil.ToFloat64(r.handler.metrics.rejections.WithLabelValues(tt.route, tt.reason))
			var rd io.Reader = bytes.NewReader(tt.d.body)
			if tt.chunk {
				rd = io.MultiReader(rd) // hides the length: sent chunked
			}
			req, _ := http.NewRequest(tt.method, r.url+tt.d.path, rd)
			req.Header.Set("X-Webhook-ID", tt.d.id)
			if tt.d.ts != "" {
				req.Header.Set("X-Webhook-Timestamp", tt.d.ts)
			}
			if tt.d.sig != "" {
				req.Header.Set("X-Webhook-Signature", tt.d.sig)
			}
			a := do(t, req)
			if a.code != tt.code || a.body["error"] != tt.reason || a.body["message"] == "" {
				t.Fatalf("answered %d %v, want %d %s", a.code, a.body, tt.code, tt.reason)
			}
			if tt.code == 503 && a.retryAfter != "30" {
				t.Errorf("Retry-After %q", a.retryAfter)
			}
			after := testutil.ToFloat64(r.handler.metrics.rejections.WithLabelValues(tt.route, tt.reason))
			if after != before+1 {
				t.Errorf("rejections{%s,%s} went from %v to %v", tt.route, tt.reason, before, after)
			}
		})
	}
	if n := len(r.env.Events()); n != 0 {
		t.Fatalf("rejected requests journaled %d events", n)
	}
}

func with(d delivery, f func(*delivery)) delivery {
	f(&d)
	return d
}

func TestRetryIsDuplicate(t *testing.T) {
	for _, cache := range []int{0, 100} {
		t.Run(fmt.Sprintf("cache=%d", cache), func(t *testing.T) {
			r := newRig(t, testConfig(), dedupe.Config{CacheSize: cache})
			body := readFixture(t, "call_ended.json")
			if a := r.post(t, r.signed("whd_retry", body, testSecret)); a.code != 200 || a.body["status"] != "accepted" {
				t.Fatalf("first delivery: %d %v", a.code, a.body)
			}
			for i := 1; i <= 5; i++ { // AgentPhone re-signs each attempt with a fresh timestamp
				r.now = r.now.Add(time.Duration(i) * time.Hour)
				if a := r.post(t, r.signed("whd_retry", body, testSecret)); a.code != 200 || a.body["status"] != "duplicate" {
					t.Fatalf("retry %d: %d %v", i, a.code, a.body)
				}
			}
			if n := len(r.env.Events()); n != 1 {
				t.Fatalf("journal holds %d events, want 1", n)
			}
		})
	}
}

func TestMissingWebhookIDUsesBodyHash(t *testing.T) {
	r := newRig(t, testConfig(), dedupe.Config{})
	body := readFixture(t, "reaction.json")
	for i := range 2 {
		r.now = r.now.Add(time.Minute)
		a := r.post(t, r.signed("", body, testSecret))
		want := []string{"accepted", "duplicate"}[i]
		if a.code != 200 || a.body["status"] != want || !strings.HasPrefix(a.body["id"], "sha256:") {
			t.Fatalf("delivery %d: %d %v", i, a.code, a.body)
		}
	}
	if n := len(r.env.Events()); n != 1 {
		t.Fatalf("journal holds %d events, want 1", n)
	}
}

// Concurrent deliveries of one ID, in one process and across two replicas
// sharing the journal, journal it once and all succeed.
func TestConcurrentDuplicates(t *testing.T) {
	r := newRig(t, testConfig(), dedupe.Config{CacheSize: 100})
	replica := serve(t, r.newHandler(t, testConfig(), dedupe.Config{CacheSize: 100}), testConfig())
	body := readFixture(t, "sms_inbound.json")
	const n = 32
	start := make(chan struct{})
	codes := make(chan int, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d := r.signed("whd_same", body, testSecret)
			url := r.url
			if i%2 == 1 {
				url = replica
			}
			req, _ := http.NewRequest(http.MethodPost, url+d.path, bytes.NewReader(d.body))
			req.Header.Set("X-Webhook-ID", d.id)
			req.Header.Set("X-Webhook-Timestamp", d.ts)
			req.Header.Set("X-Webhook-Signature", d.sig)
			<-start
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
			codes <- resp.StatusCode
		}()
	}
	close(start)
	wg.Wait()
	close(codes)
	for c := range codes {
		if c != 200 {
			t.Errorf("a concurrent delivery was answered %d", c)
		}
	}
	if got := len(r.env.Events()); got != 1 {
		t.Fatalf("journal holds %d events, want 1", got)
	}
}

func TestJournalOutageAnswers503ThenRecovers(t *testing.T) {
	r := newRig(t, testConfig(), dedupe.Config{CacheSize: 100})
	body := readFixture(t, "sms_inbound.json")
	r.env.Stop()
	a := r.post(t, r.signed("whd_outage", body, testSecret))
	if a.code != 503 || a.body["error"] != "journal_unavailable" || a.retryAfter == "" {
		t.Fatalf("during the outage: %d %v Retry-After=%q", a.code, a.body, a.retryAfter)
	}
	r.env.Restart()
	r.now = r.now.Add(5 * time.Minute) // AgentPhone's second attempt
	if a := r.post(t, r.signed("whd_outage", body, testSecret)); a.code != 200 || a.body["status"] != "accepted" {
		t.Fatalf("after the outage: %d %v", a.code, a.body)
	}
	if n := len(r.env.Events()); n != 1 {
		t.Fatalf("journal holds %d events, want 1", n)
	}
}

func TestDedupeSurvivesRestart(t *testing.T) {
	r := newRig(t, testConfig(), dedupe.Config{CacheSize: 100})
	body := readFixture(t, "mms_with_media.json")
	if a := r.post(t, r.signed("whd_restart", body, testSecret)); a.code != 200 {
		t.Fatalf("first delivery: %d %v", a.code, a.body)
	}
	r.env.Restart()
	// A new process: nothing remembered in memory.
	r.url = serve(t, r.newHandler(t, testConfig(), dedupe.Config{CacheSize: 100}), testConfig())
	r.now = r.now.Add(2 * time.Hour)
	if a := r.post(t, r.signed("whd_restart", body, testSecret)); a.code != 200 || a.body["status"] != "duplicate" {
		t.Fatalf("after restart: %d %v", a.code, a.body)
	}
	if n := len(r.env.Events()); n != 1 {
		t.Fatalf("journal holds %d events, want 1", n)
	}
}

func TestSignedBodiesAreNeverRejectedForContent(t *testing.T) {
	r := newRig(t, testConfig(), dedupe.Config{})
	tests := []struct {
		name   string
		body   string
		status connector.Status
		typ    string
	}{
		{"unknown event type", string(readFixture(t, "unknown_event.json")), connector.StatusUnknownType, "ai.agentphone.agent.voicemail_left"},
		{"contact shared", `{"event":"agent.contact_shared","agentId":"agt_1","data":{"vcard":"BEGIN:VCARD"}}`, connector.StatusUntyped, "ai.agentphone.agent.contact_shared"},
		{"not JSON", `{"event":"agent.message",`, connector.StatusInvalidJSON, "ai.agentphone.connector.invalid"},
		{"JSON but not an object", `[1,2,3]`, connector.StatusInvalidJSON, "ai.agentphone.connector.invalid"},
		{"not UTF-8", "\xff\xfe{}", connector.StatusInvalidJSON, "ai.agentphone.connector.invalid"},
		{"empty", ``, connector.StatusInvalidJSON, "ai.agentphone.connector.invalid"},
		{"wrong field type", `{"event":"agent.call_ended","data":{"callId":"c1","transcript":"oops"}}`, connector.StatusInvalidData, "ai.agentphone.agent.call_ended"},
		{"missing required field", `{"event":"agent.reaction","data":{"reactionType":"love"}}`, connector.StatusInvalidData, "ai.agentphone.agent.reaction"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id := fmt.Sprintf("whd_content_%d", i)
			if a := r.post(t, r.signed(id, []byte(tt.body), testSecret)); a.code != 200 || a.body["status"] != "accepted" {
				t.Fatalf("answered %d %v", a.code, a.body)
			}
		})
	}
	got := r.env.Events()
	if len(got) != len(tests) {
		t.Fatalf("journal holds %d events, want %d", len(got), len(tests))
	}
	for i, s := range got {
		tt := tests[i]
		if string(s.Event.Raw) != tt.body || s.Event.Status != tt.status || s.Event.Type != tt.typ {
			t.Errorf("%s: journaled raw=%q status=%s type=%s", tt.name, s.Event.Raw, s.Event.Status, s.Event.Type)
		}
	}
}

func TestNamedRoutes(t *testing.T) {
	cfg := testConfig()
	cfg.Routes = []string{"sales"}
	cfg.RouteSecrets = map[string][]Secret{"sales": {"whsec_sales_old", "whsec_sales_new"}}
	r := newRig(t, cfg, dedupe.Config{})
	body := readFixture(t, "sms_inbound.json")
	tests := []struct {
		name, path, id, secret string
		code                   int
	}{
		{"old secret during rotation", PathPrefix + "/sales", "whd_r1", "whsec_sales_old", 200},
		{"new secret during rotation", PathPrefix + "/sales", "whd_r2", "whsec_sales_new", 200},
		{"project secret on the sales route", PathPrefix + "/sales", "whd_r3", testSecret, 401},
		{"sales secret on the project route", PathPrefix, "whd_r4", "whsec_sales_new", 401},
		{"project is not a named route", PathPrefix + "/project", "whd_r5", testSecret, 404},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := r.signed(tt.id, body, tt.secret)
			d.path = tt.path
			if a := r.post(t, d); a.code != tt.code {
				t.Fatalf("answered %d %v, want %d", a.code, a.body, tt.code)
			}
		})
	}
	got := r.env.Events()
	if len(got) != 2 || got[0].Event.Source != "agentphone/webhook/sales" {
		t.Fatalf("journal: %d events, first source %q", len(got), got[0].Event.Source)
	}
}

// The handler answers alike on net/http, for embedding in another server.
func TestNetHTTP(t *testing.T) {
	cfg := testConfig()
	cfg.MaxBodyBytes = 4096
	r := newRig(t, cfg, dedupe.Config{})
	srv := httptest.NewServer(r.handler)
	defer srv.Close()
	r.url = srv.URL
	body := readFixture(t, "sms_inbound.json")
	if a := r.post(t, r.signed("whd_net", body, testSecret)); a.code != 200 || a.body["status"] != "accepted" {
		t.Fatalf("accepted: %d %v", a.code, a.body)
	}
	if a := r.post(t, r.signed("whd_net", body, "whsec_wrong")); a.code != 401 || a.body["error"] != "bad_signature" {
		t.Fatalf("wrong secret: %d %v", a.code, a.body)
	}
	big := r.signed("whd_big", bytes.Repeat([]byte("x"), 5000), testSecret)
	if a := r.post(t, big); a.code != 413 || a.body["error"] != "body_too_large" {
		t.Fatalf("too large: %d %v", a.code, a.body)
	}
	req, _ := http.NewRequest(http.MethodGet, srv.URL+PathPrefix, nil)
	if a := do(t, req); a.code != 405 || a.body["error"] != "method" {
		t.Fatalf("GET: %d %v", a.code, a.body)
	}
	if n := len(r.env.Events()); n != 1 {
		t.Fatalf("journal holds %d events, want 1", n)
	}
}
