package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/agentphone-connector/connector/dedupe"
)

func TestClient(t *testing.T) {
	proxies, err := ParseProxies([]string{"10.0.0.0/8", "192.0.2.7", "2001:db8:ffff::/48"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, peer, xff, want string
	}{
		{"direct client", "198.51.100.4", "", "198.51.100.4"},
		{"direct client's X-Forwarded-For is not believed", "198.51.100.4", "203.0.113.9", "198.51.100.4"},
		{"behind a proxy", "10.1.2.3", "203.0.113.9", "203.0.113.9"},
		{"behind two proxies", "10.1.2.3", "203.0.113.9, 192.0.2.7", "203.0.113.9"},
		{"forged entries left of the client", "10.1.2.3", "1.1.1.1, 203.0.113.9, 10.9.9.9", "203.0.113.9"},
		{"a proxy without X-Forwarded-For is the client", "10.1.2.3", "", "10.1.2.3"},
		{"every entry a proxy: the first", "10.1.2.3", "10.7.7.7, 10.8.8.8", "10.7.7.7"},
		{"with a port", "10.1.2.3", "203.0.113.9:5555", "203.0.113.9"},
		{"not an address", "10.1.2.3", "unknown", "unknown"},
		{"IPv6 client by its /64", "2001:db8:1:2:3:4:5:6", "", "2001:db8:1:2::/64"},
		{"IPv6 proxy", "2001:db8:ffff::1", "2001:db8:9:9::1", "2001:db8:9:9::/64"},
		{"IPv4 in IPv6", "::ffff:198.51.100.4", "", "198.51.100.4"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := proxies.client(netip.MustParseAddr(tc.peer), func() string { return tc.xff })
			if got != tc.want {
				t.Fatalf("client = %q, want %q", got, tc.want)
			}
		})
	}
	if _, err := ParseProxies([]string{"10.0.0.0/33"}); err == nil {
		t.Error("a bad prefix parses")
	}
}

// budgetRig is a rig whose clients have a budget of n rejections and wait
// delay when over it.
func budgetRig(t *testing.T, n int, delay time.Duration) *rig {
	cfg := testConfig()
	cfg.RejectBudget = n
	r := newRig(t, cfg, dedupe.Config{})
	r.handler.gate.delay = delay
	return r
}

// A client that has spent its budget gets 429 with Retry-After, after the
// penalty delay, for each further rejected request; its correctly signed
// deliveries, and authentic ones outside the time window, are answered as
// ever; the budget refills with time.
func TestRejectBudget(t *testing.T) {
	const delay = 50 * time.Millisecond
	r := budgetRig(t, 3, delay)
	body := readFixture(t, "sms_inbound.json")
	forged := r.signed("whd_forged", body, "whsec_forger")
	for i := range 3 {
		if a := r.post(t, forged); a.code != http.StatusUnauthorized {
			t.Fatalf("rejection %d within the budget: %d %v", i+1, a.code, a.body)
		}
	}
	start := time.Now()
	a := r.post(t, forged)
	if a.code != http.StatusTooManyRequests || a.body["error"] != "over_budget" || a.retryAfter != "20" {
		t.Fatalf("over the budget: %d %v Retry-After %q, want 429 over_budget after 20 s", a.code, a.body, a.retryAfter)
	}
	if held := time.Since(start); held < delay {
		t.Errorf("answered after %v, before the penalty delay", held)
	}
	if a := r.post(t, r.signed("whd_good", body, testSecret)); a.code != http.StatusOK || a.body["status"] != "accepted" {
		t.Fatalf("a signed delivery from a client over its budget: %d %v", a.code, a.body)
	}
	stale := r.signed("whd_stale", body, testSecret)
	stale.ts = strconv.FormatInt(r.now.Add(-time.Hour).Unix(), 10)
	stale.sig = sign(testSecret, stale.ts, body)
	if a := r.post(t, stale); a.code != http.StatusUnauthorized || a.body["error"] != "stale_timestamp" {
		t.Fatalf("an authentic stale delivery from a client over its budget: %d %v", a.code, a.body)
	}
	r.now = r.now.Add(20 * time.Second) // room for one more
	if a := r.post(t, forged); a.code != http.StatusUnauthorized {
		t.Fatalf("after 20 s: %d %v, want 401", a.code, a.body)
	}
	if a := r.post(t, forged); a.code != http.StatusTooManyRequests {
		t.Fatalf("and again: %d %v, want 429", a.code, a.body)
	}
	if n := len(r.env.Events()); n != 1 {
		t.Fatalf("journal holds %d events, want 1", n)
	}
}

// clientFrom returns an HTTP client whose connections come from the local
// address ip (any of 127.0.0.0/8 on Linux).
func clientFrom(ip string) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
	return &http.Client{Transport: &http.Transport{DialContext: d.DialContext, MaxIdleConnsPerHost: 64}}
}

// While one client floods the listener with forged deliveries, another's
// deliveries are all taken in: the budget is per client, and what the
// flooder gets past it is 429.
func TestFloodFromOneClientRefusesNoneOfAnother(t *testing.T) {
	r := budgetRig(t, 10, 20*time.Millisecond)
	body := readFixture(t, "sms_inbound.json")
	forged := r.signed("whd_flood", body, "whsec_forger")
	flooder := clientFrom("127.0.0.2")
	ctx, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var mu sync.Mutex
	codes := map[int]int{}
	limited := make(chan struct{}) // closed at the flood's first 429
	var once sync.Once
	for range 8 {
		wg.Go(func() {
			for ctx.Err() == nil {
				req, _ := http.NewRequestWithContext(ctx, http.MethodPost, r.url+PathPrefix, bytes.NewReader(forged.body))
				req.Header.Set("X-Webhook-Timestamp", forged.ts)
				req.Header.Set("X-Webhook-Signature", forged.sig)
				resp, err := flooder.Do(req)
				if err != nil {
					continue // cancelled at the end
				}
				resp.Body.Close()
				mu.Lock()
				codes[resp.StatusCode]++
				mu.Unlock()
				if resp.StatusCode == http.StatusTooManyRequests {
					once.Do(func() { close(limited) })
				}
			}
		})
	}
	select {
	case <-limited:
	case <-time.After(30 * time.Second):
		mu.Lock()
		defer mu.Unlock()
		t.Fatalf("the flood got no 429: %v", codes)
	}
	genuine := clientFrom("127.0.0.1")
	for i := range 50 {
		d := r.signed("whd_beside_"+strconv.Itoa(i), body, testSecret)
		req, _ := http.NewRequest(http.MethodPost, r.url+PathPrefix, bytes.NewReader(d.body))
		req.Header.Set("X-Webhook-ID", d.id)
		req.Header.Set("X-Webhook-Timestamp", d.ts)
		req.Header.Set("X-Webhook-Signature", d.sig)
		resp, err := genuine.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("delivery %d beside the flood: %d", i, resp.StatusCode)
		}
	}
	stop()
	wg.Wait()
	if codes[http.StatusUnauthorized] != 10 || codes[http.StatusTooManyRequests] == 0 || len(codes) != 2 {
		t.Fatalf("the flood was answered %v, want 10 × 401 then 429s", codes)
	}
	if n := len(r.env.Events()); n != 50 {
		t.Fatalf("journal holds %d events, want 50", n)
	}
}

// Rejections are logged as a summary, not a line per request, at any level.
func TestRejectionsAreSummarized(t *testing.T) {
	var logs bytes.Buffer
	cfg := testConfig()
	cfg.RejectBudget = 1000
	cfg.TrustedProxies = []string{"127.0.0.0/8"}
	r := newRig(t, cfg, dedupe.Config{})
	r.handler.log = slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	r.handler.gate.summary.log = r.handler.log
	body := readFixture(t, "sms_inbound.json")
	forged := r.signed("whd_forged", body, "whsec_forger")
	forged.header = http.Header{"X-Forwarded-For": {"203.0.113.9"}}
	stale := r.signed("whd_stale", body, testSecret)
	stale.ts = strconv.FormatInt(r.now.Add(-time.Hour).Unix(), 10)
	stale.sig = sign(testSecret, stale.ts, body)
	for range 40 {
		r.post(t, forged)
		r.post(t, stale)
		r.post(t, with(forged, func(d *delivery) { d.path = PathPrefix + "/nope" }))
		r.post(t, r.signed("", body, testSecret)) // accepted, then duplicates
	}
	r.handler.gate.summary.flush()
	lines := bytes.Split(bytes.TrimSpace(logs.Bytes()), []byte("\n"))
	if len(lines) > 3 {
		t.Fatalf("160 requests logged %d lines:\n%s", len(lines), logs.Bytes())
	}
	total, reasons, clients := 0, map[string]int{}, map[string]int{}
	for _, l := range lines {
		var line struct {
			Msg        string         `json:"msg"`
			Total      int            `json:"total"`
			ByReason   map[string]int `json:"by_reason"`
			TopClients map[string]int `json:"top_clients"`
		}
		if err := json.Unmarshal(l, &line); err != nil {
			t.Fatal(err)
		}
		if line.Msg != "webhook requests rejected" {
			continue
		}
		total += line.Total
		for k, n := range line.ByReason {
			reasons[k] += n
		}
		for k, n := range line.TopClients {
			clients[k] += n
		}
	}
	if total != 120 || reasons["bad_signature"] != 40 || reasons["stale_timestamp"] != 40 || reasons["unknown_route"] != 40 ||
		clients["203.0.113.9"] != 80 || clients["127.0.0.1"] != 40 {
		t.Fatalf("summaries: total %d, reasons %v, clients %v:\n%s", total, reasons, clients, logs.Bytes())
	}
}
