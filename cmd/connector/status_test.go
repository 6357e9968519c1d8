package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"maps"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sethvargo/go-envconfig"
	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/agentphone-connector/connector/agentphonetest"
	"github.com/agentphone-connector/connector/sinks"
	"github.com/agentphone-connector/connector/sinks/sinktest"
)

// chromium returns the path of a headless Chromium: $CHROMIUM (scripts/test
// sets it), one on the PATH, or one scripts/chromium installs. The test is
// skipped only when none is there and none can be installed.
func chromium(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("CHROMIUM"); p != "" {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("CHROMIUM=%s: %v", p, err)
		}
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	var stderr bytes.Buffer
	cmd := exec.Command("../../scripts/chromium")
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit) && exit.ExitCode() == 3:
		t.Skipf("Chromium is not installed and cannot be installed here: %s", strings.TrimSpace(stderr.String()))
	case err != nil:
		t.Fatalf("scripts/chromium: %v: %s", err, stderr.String())
	}
	return strings.TrimSpace(string(out))
}

// renderPage loads url in headless Chromium and returns the document as
// the browser built it.
func renderPage(t *testing.T, browser, url string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir="+t.TempDir(), "--dump-dom", url)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("chromium: %v\n%s", err, stderr.String())
	}
	return string(out)
}

// shown returns the text of the element with id, or of the element of class
// within the row with id, in the document; "" when not there.
func shown(doc, id, class string) string {
	re := `id="` + regexp.QuoteMeta(id) + `"[^>]*>([^<]*)<`
	if class != "" {
		re = `<tr id="` + regexp.QuoteMeta(id) + `">(?:.|\n)*?class="[^"]*\b` + class + `\b[^"]*">([^<]*)<`
	}
	if m := regexp.MustCompile(re).FindStringSubmatch(doc); m != nil {
		return strings.TrimSpace(m[1])
	}
	return ""
}

// metricValue sums the series of a metric whose lines contain match.
func metricValue(t *testing.T, admin, name, match string) float64 {
	t.Helper()
	resp, err := http.Get(admin + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	_, _ = b.ReadFrom(resp.Body)
	var sum float64
	for _, line := range strings.Split(b.String(), "\n") {
		if strings.HasPrefix(line, name) && strings.Contains(line, match) {
			v, _ := strconv.ParseFloat(line[strings.LastIndexByte(line, ' ')+1:], 64)
			sum += v
		}
	}
	return sum
}

func sinkStatus(t *testing.T, admin string) []sinks.Status {
	resp, err := http.Get(admin + "/sinks")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct{ Sinks []sinks.Status }
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	return body.Sinks
}

// The admin listener's page, rendered in a real browser, shows what a
// connector has taken: webhooks answered and refused by reason, dedupe hits,
// the journal, the Kafka sink, a live call followed, the last backfill.
func TestStatusPageInBrowser(t *testing.T) {
	browser := chromium(t)
	kc, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(2, "agentphone.events"))
	if err != nil {
		t.Fatal(err)
	}
	defer kc.Close()
	acct := agentphonetest.Generate(agentphonetest.AccountOptions{Seed: 5, Calls: 3, Day: time.Now().UTC().AddDate(0, 0, -1)})
	api := agentphonetest.Start(t, agentphonetest.Options{Account: acct, Heartbeat: time.Second})
	live, err := api.StartCall(agentphonetest.Call{Turns: []agentphonetest.Turn{{Role: "agent", Content: "Hello"}, {Role: "user", Content: "Hi"}}})
	if err != nil {
		t.Fatal(err)
	}
	env := transcriptEnv(t, api)
	env["CONNECTOR_KAFKA_BROKERS"], env["CONNECTOR_KAFKA_BATCH_TIMEOUT"] = strings.Join(kc.ListenAddrs(), ","), "10ms"
	env["AGENTPHONE_TRANSCRIPT_HEARTBEAT"] = "1s"
	s := startServe(t, env)

	// Known traffic: 5 webhooks, 2 of them twice, 3 badly signed, 1 to no route.
	now := time.Now()
	for i := range 5 {
		if code := post(t, s.webhooks, "whd_page_"+strconv.Itoa(i), now); code != http.StatusOK {
			t.Fatalf("webhook %d: %d", i, code)
		}
	}
	for i := range 2 {
		post(t, s.webhooks, "whd_page_"+strconv.Itoa(i), now)
	}
	for i := range 3 {
		req := signedRequest(s.webhooks, "whd_forged_"+strconv.Itoa(i), fixture(t, "sms_inbound.json"), now)
		req.Header.Set("X-Webhook-Signature", "sha256="+strings.Repeat("0", 64))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	req := signedRequest(s.webhooks, "whd_lost", fixture(t, "sms_inbound.json"), now)
	req.URL.Path += "/nowhere"
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
	}
	// The live call's two turns journaled; the finished calls backfilled.
	waitTurns(t, s, live.ID, 2)
	var out, errOut bytes.Buffer
	backfillEnv := maps.Clone(env)
	maps.Copy(backfillEnv, alongside(s))
	if code := Main(t.Context(), []string{"backfill"}, envconfig.MapLookuper(backfillEnv), &out, &errOut); code != 0 {
		t.Fatalf("backfill: exit %d: %s", code, errOut.String())
	}
	journaled := 0
	for _, n := range liveIDs(t, s) {
		journaled += n
	}
	sinktest.Eventually(t, 30*time.Second, func() bool {
		st := sinkStatus(t, s.admin)
		return len(st) == 1 && st[0].Delivered == uint64(journaled) && st[0].Pending == 0
	}, func() string { return "GET /sinks: " + toJSON(sinkStatus(t, s.admin)) })
	if v := metricValue(t, s.admin, "connector_transcript_streams", ""); v != 1 {
		t.Fatalf("%v transcript streams followed, want the live call's", v)
	}

	// A stream that reconnects replays its turns: duplicates, counted too.
	var doc string
	dups := -1.0
	for range 3 {
		before := metricValue(t, s.admin, "connector_events_total", `outcome="duplicate"`)
		doc = renderPage(t, browser, s.admin+"/")
		if dups = metricValue(t, s.admin, "connector_events_total", `outcome="duplicate"`); dups == before {
			break
		}
	}
	if web := metricValue(t, s.admin, "connector_events_total", `outcome="duplicate",source="agentphone/webhook/project"`); web != 2 {
		t.Errorf("%v webhooks counted duplicate, want 2", web)
	}
	for _, c := range []struct{ id, class, want string }{
		{"answer-200", "total", "7"}, {"answer-200", "window", "7"},
		{"answer-401", "total", "3"}, {"answer-404", "total", "1"},
		{"rejection-bad_signature", "total", "3"}, {"rejection-unknown_route", "total", "1"},
		{"events-journaled", "total", "7"},                     // 5 webhooks and the live call's 2 turns
		{"events-duplicate", "total", strconv.Itoa(int(dups))}, // the 2 webhooks delivered twice, and any replayed turns
		{"journal-stream", "", "AGENTPHONE"},
		{"journal-events", "", strconv.Itoa(journaled)},
		{"sink-kafka", "state", "delivering"}, {"sink-kafka", "role", "holder"},
		{"sink-kafka", "delivered", strconv.Itoa(journaled)}, {"sink-kafka", "pending", "0"}, {"sink-kafka", "error", "-"},
		{"transcript-streams", "", "1"},
		{"backfill-state", "", "finished"}, {"backfill-calls", "found", "3"}, {"backfill-calls", "added", "3"},
	} {
		if got := shown(doc, c.id, c.class); got != c.want {
			t.Errorf("the page shows %s %s = %q, want %q", c.id, c.class, got, c.want)
		}
	}
	if holder := shown(doc, "sink-kafka", "holder"); holder == "" {
		t.Error("the page shows no lease holder")
	}
	if !strings.Contains(doc, `http-equiv="refresh"`) || strings.Contains(doc, "<script") {
		t.Error("the page does not refresh itself, or runs script")
	}
	if t.Failed() {
		t.Logf("the page:\n%s", doc)
	}

}
