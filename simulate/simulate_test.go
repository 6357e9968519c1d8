package simulate

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	connector "github.com/agentphone-connector/connector"
	"github.com/agentphone-connector/connector/agentphonetest"
	"github.com/agentphone-connector/connector/sources/webhook"
	"go.uber.org/goleak"
)

const secret = "whsec_simulate_test"

var day = time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)

// journal is an in-memory connector.Appender that keeps the first event of
// each ID and fails its first appends as an unavailable journal does.
type journal struct {
	mu       sync.Mutex
	failures int
	events   map[string]*connector.Event
	dups     int
}

func (j *journal) Append(_ context.Context, e *connector.Event) (connector.Appended, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.failures > 0 {
		j.failures--
		return connector.Appended{}, connector.ErrUnavailable
	}
	if _, ok := j.events[e.ID]; ok {
		j.dups++
		return connector.Appended{Duplicate: true}, nil
	}
	j.events[e.ID] = e
	return connector.Appended{Seq: uint64(len(j.events))}, nil
}

// connectorEndpoint serves the connector's real webhook handler over j.
func connectorEndpoint(t *testing.T, j *journal) *httptest.Server {
	t.Helper()
	cfg := webhook.Config{Secrets: []webhook.Secret{secret}, MaxBodyBytes: 1 << 20, Tolerance: 5 * time.Minute, RetryAfter: time.Second}
	h := webhook.NewHandler(cfg, j, webhook.Settings{Logger: slog.New(slog.DiscardHandler)})
	return httptest.NewServer(h)
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// noLeaks returns a check, to call after closing everything the test
// started, that fails the test when goroutines started since noLeaks are
// still running (after a grace period).
func noLeaks(t *testing.T) func() {
	ignore := goleak.IgnoreCurrent()
	return func() {
		t.Helper()
		goleak.VerifyNone(t, ignore)
	}
}

// A simulated day through the connector's own webhook handler: every webhook
// signed right is journaled once, the journal's failures are answered 503
// and retried, stale and wrongly signed ones are answered 401 and not
// retried, duplicates are answered 200 and journaled once.
func TestRunAgainstConnectorHandler(t *testing.T) {
	ctx := testCtx(t)
	j := &journal{failures: 5, events: map[string]*connector.Event{}}
	endpoint := connectorEndpoint(t, j)
	defer endpoint.Close()
	o := Options{URL: endpoint.URL + webhook.PathPrefix, Secret: secret, Calls: 12, Messages: 30, Seed: 3, Day: day,
		Duplicates: 0.2, Stale: 0.05, WrongSecret: 0.05, OutOfOrder: 4, TimeScale: 1e-6}
	sim, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close(context.Background())
	var out strings.Builder
	rep, err := sim.Run(ctx, &out)
	if err != nil {
		t.Fatal(err)
	}
	t.Log("\n" + out.String())

	want := len(agentphonetest.Generate(agentphonetest.AccountOptions{Seed: 3, Day: day, Calls: 12, Messages: 30}).Events)
	if rep.Sent() != want || rep.Duplicates == 0 {
		t.Errorf("sent %d webhooks with %d duplicates, want %d with some", rep.Sent(), rep.Duplicates, want)
	}
	if rep.Answers["503"] != 5 || rep.Retries != 5 {
		t.Errorf("%d answers 503 and %d retries, want 5 and 5", rep.Answers["503"], rep.Retries)
	}
	if rep.Rejected == 0 || rep.Answers["401"] != rep.Rejected || rep.Succeeded+rep.Rejected != rep.Deliveries || rep.Pending+rep.Exhausted != 0 {
		t.Errorf("report %+v", rep)
	}
	if err := rep.Check(); err != nil || rep.Unexpected != 0 {
		t.Errorf("the connector's answers were all as expected, yet: %v", err)
	}
	delivered := map[string]int{}
	for _, d := range sim.Deliveries() {
		if d.State == agentphonetest.DeliverySuccess {
			delivered[d.WebhookID]++
		}
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	if len(j.events) != len(delivered) || j.dups != rep.Succeeded-len(delivered) {
		t.Errorf("journal holds %d events (%d duplicates answered), want %d (%d)", len(j.events), j.dups, len(delivered), rep.Succeeded-len(delivered))
	}
	for id, e := range j.events {
		if delivered[id] == 0 {
			t.Errorf("journaled %s, which was not delivered", id)
		}
		if e.Status != connector.StatusOK && e.Status != connector.StatusUnknownType && e.Status != connector.StatusUntyped {
			t.Errorf("%s normalized as %s", id, e.Status)
		}
	}
	for _, line := range []string{"sent " + strconv.Itoa(want) + " webhooks", "agent.call_ended/voice", "  503 ", "5 retries"} {
		if !strings.Contains(out.String(), line) {
			t.Errorf("output lacks %q", line)
		}
	}
}

// With Serve the same account is on a local port: the backfill source sees
// the day's calls and the live ones, the transcript source can stream them.
func TestServe(t *testing.T) {
	check := noLeaks(t)
	ctx := testCtx(t)
	j := &journal{events: map[string]*connector.Event{}}
	endpoint := connectorEndpoint(t, j)
	sim, err := New(Options{URL: endpoint.URL + webhook.PathPrefix, Secret: secret, Calls: 5, Messages: 5, Live: 2, Seed: 4, Day: day,
		TurnInterval: time.Millisecond, Serve: "127.0.0.1:0", APIKey: "sk_test_serve"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(sim.URL(), "http://127.0.0.1:") || sim.APIKey() != "sk_test_serve" {
		t.Fatalf("serving on %q with key %q", sim.URL(), sim.APIKey())
	}
	var out strings.Builder
	if _, err := sim.Run(ctx, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "serving AgentPhone's REST API and transcript stream on "+sim.URL()) {
		t.Errorf("output does not say where it serves:\n%s", out.String())
	}
	for _, s := range []string{"sk_test_serve", secret} {
		if strings.Contains(out.String(), s) {
			t.Errorf("output shows a secret (%s):\n%s", s, out.String())
		}
	}
	body := get(ctx, t, sim, "/v1/calls?limit=100")
	if !strings.Contains(body, `"total":7`) {
		t.Errorf("calls list: %s", body)
	}
	live := 0
	for _, d := range sim.Deliveries() {
		if d.Event.Name != agentphonetest.EventCallEnded || d.Event.At.Before(day.AddDate(0, 0, 2)) {
			continue // the day's calls; live ones end now
		}
		live++
		var id struct {
			Data struct {
				CallID string `json:"callId"`
			} `json:"data"`
		}
		if err := json.Unmarshal(d.Event.Body, &id); err != nil {
			t.Fatal(err)
		}
		stream := get(ctx, t, sim, "/v1/calls/"+id.Data.CallID+"/transcript/stream")
		if !strings.HasPrefix(stream, "event: connected\n") || !strings.HasSuffix(stream, "event: ended\ndata: {\"status\":\"completed\"}\n\n") ||
			strings.Count(stream, "event: turn\n") < 4 {
			t.Errorf("stream of live call %s:\n%s", id.Data.CallID, stream)
		}
	}
	if live != 2 {
		t.Errorf("%d live calls ended, want 2", live)
	}
	if err := sim.Close(ctx); err != nil {
		t.Fatal(err)
	}
	endpoint.Close()
	check()
}

func get(ctx context.Context, t *testing.T, sim *Simulation, path string) string {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, sim.URL()+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Close = true
	req.Header.Set("Authorization", "Bearer "+sim.APIKey())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d %v %s", path, resp.StatusCode, err, b)
	}
	return string(b)
}

// A connector that is down gets every attempt of the schedule, in seconds
// with the default time scale shrunk further here.
func TestConnectorDown(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + ln.Addr().String() + "/webhooks/agentphone"
	ln.Close()
	rep, err := Run(testCtx(t), Options{URL: url, Secret: secret, Calls: 2, Seed: 1, Day: day, TimeScale: 1e-7}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Exhausted != rep.Deliveries || rep.Answers["no connection"] != 6*rep.Deliveries || rep.Retries != 5*rep.Deliveries {
		t.Errorf("report %+v", rep)
	}
	if err := rep.Check(); !errors.Is(err, ErrUnexpected) || rep.Unexpected != rep.Deliveries || !strings.Contains(err.Error(), "answered no connection after 6 attempt(s), want 2xx") {
		t.Errorf("Check() = %v with %d unexpected, want ErrUnexpected for every delivery", err, rep.Unexpected)
	}
}

// A connector that refuses what it must accept, or accepts what it must
// refuse, fails the run's check.
func TestUnexpectedAnswers(t *testing.T) {
	for _, tc := range []struct {
		name   string
		status int
		o      Options
		want   string
	}{
		{"signed right, refused", http.StatusUnauthorized, Options{Messages: 2}, "answered 401 after 1 attempt(s), want 2xx (is AGENTPHONE_WEBHOOK_SECRET the connector's secret?)"},
		{"wrong secret, accepted", http.StatusOK, Options{Messages: 2, WrongSecret: 1}, "answered 200 after 1 attempt(s), want 401"},
		{"stale, refused otherwise", http.StatusNotFound, Options{Messages: 2, Stale: 1}, "answered 404 after 1 attempt(s), want 401"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			endpoint := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(tc.status) }))
			defer endpoint.Close()
			o := tc.o
			o.URL, o.Secret, o.Seed, o.Day = endpoint.URL, secret, 1, day
			var out strings.Builder
			rep, err := Run(testCtx(t), o, &out)
			if err != nil {
				t.Fatal(err)
			}
			if err := rep.Check(); !errors.Is(err, ErrUnexpected) || rep.Unexpected != rep.Deliveries || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Check() = %v, %d of %d unexpected; want ErrUnexpected for each, with %q", err, rep.Unexpected, rep.Deliveries, tc.want)
			}
			if !strings.Contains(out.String(), "answered other than expected") {
				t.Errorf("the report does not say so:\n%s", out.String())
			}
		})
	}
}

// A run in progress says how far it has got at each Progress interval.
func TestProgress(t *testing.T) {
	release := make(chan struct{})
	endpoint := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { <-release }))
	defer endpoint.Close()
	out := newLines()
	done := make(chan error, 1)
	go func() {
		_, err := Run(testCtx(t), Options{URL: endpoint.URL, Secret: secret, Messages: 1, Seed: 1, Day: day, Progress: 10 * time.Millisecond}, out)
		done <- err
	}()
	out.wait(t, "of 1 webhooks sent (and 0 duplicates); deliveries: 0 delivered, 0 rejected, 0 failed after every retry, 1 waiting or retrying")
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	out.wait(t, "1 delivered")
}

// lines is an io.Writer a test can wait on for a line.
type lines struct {
	mu      sync.Mutex
	text    strings.Builder
	changed chan struct{}
}

func newLines() *lines { return &lines{changed: make(chan struct{})} }

func (l *lines) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.text.Write(p)
	close(l.changed)
	l.changed = make(chan struct{})
	return len(p), nil
}

// wait returns once the text written holds want, failing after 10 s.
func (l *lines) wait(t *testing.T, want string) {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		l.mu.Lock()
		text, changed := l.text.String(), l.changed
		l.mu.Unlock()
		if strings.Contains(text, want) {
			return
		}
		select {
		case <-changed:
		case <-timeout:
			t.Fatalf("no %q in:\n%s", want, text)
		}
	}
}

func TestRate(t *testing.T) {
	j := &journal{events: map[string]*connector.Event{}}
	endpoint := connectorEndpoint(t, j)
	defer endpoint.Close()
	start := time.Now()
	rep, err := Run(testCtx(t), Options{URL: endpoint.URL + webhook.PathPrefix, Secret: secret, Messages: 10, Rate: 100, Seed: 1, Day: day}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if min := time.Duration(rep.Sent()-1) * 10 * time.Millisecond; time.Since(start) < min {
		t.Errorf("%d webhooks at 100/s took %v, less than %v", rep.Sent(), time.Since(start), min)
	}
}

// Interrupting a run stops it at once; deliveries waiting for a retry are
// reported pending and nothing is left running.
func TestInterrupt(t *testing.T) {
	check := noLeaks(t)
	endpoint := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(503) }))
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	rep, err := Run(ctx, Options{URL: endpoint.URL, Secret: secret, Messages: 3, Seed: 1, Day: day, TimeScale: 1}, io.Discard)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err %v, want the deadline", err)
	}
	if rep.Pending != rep.Deliveries || rep.Deliveries == 0 {
		t.Errorf("report %+v, want every delivery pending", rep)
	}
	endpoint.Close()
	check()
}

func TestOptionsValidate(t *testing.T) {
	err := Options{URL: "ftp://x", Calls: -1, Duplicates: 1.5, Rate: -1}.Validate()
	for _, want := range []string{"secret", "url", "calls", "duplicates", "rate"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%v does not mention %s", err, want)
		}
	}
	if err := (Options{Secret: "s"}).Validate(); err != nil {
		t.Errorf("minimal options: %v", err)
	}
}
