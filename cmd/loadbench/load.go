package main

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// traffic is the shape of the deliveries: how many distinct agents,
// conversations and calls they come from.
type traffic struct {
	agents        int // agents the deliveries are spread over
	conversations int // SMS conversations, each with one agent
	calls         int // calls the call_ended bodies cycle through; 0: a new call each
}

func (t traffic) String() string {
	calls := "a new call each"
	if t.calls > 0 {
		calls = fmt.Sprintf("%d calls", t.calls)
	}
	return fmt.Sprintf("%d agents, %d conversations, %s", t.agents, t.conversations, calls)
}

// workload makes AgentPhone-like deliveries: one 2 KB call_ended for every
// four 0.5 KB SMS bodies (a simulated day has about one call_ended in six
// webhooks), spread over the traffic's agents, conversations and calls; a
// share of re-deliveries of acknowledged IDs (re-signed, as provider retries
// are) and a share of bad signatures.
type workload struct {
	url, secret      string
	shape            traffic
	dupRate, badRate float64
	run              string // makes IDs and new calls unique per run
	seq              atomic.Int64
	mu               sync.Mutex
	acked            []delivered // ring of recent acknowledged deliveries
	next             int
	onAck            func(id string, at time.Time) // if set, told of every fresh delivery answered 200, when the answer came
}

// delivered is one delivery: its ID, body, and the journal subject the
// connector gives it (for the baseline, which parses nothing).
type delivered struct {
	id, subject string
	body        []byte
}

func newWorkload(url, secret, run string, shape traffic) *workload {
	return &workload{url: url, secret: secret, shape: shape, dupRate: 0.10, badRate: 0.01, run: run, acked: make([]delivered, 0, 10000)}
}

type kind int

const (
	fresh kind = iota
	duplicate
	badSignature
)

// request returns the next delivery and what it is.
func (w *workload) request(rng *rand.Rand) (*http.Request, kind, delivered) {
	k, d := fresh, delivered{}
	switch p := rng.Float64(); {
	case p < w.badRate:
		k = badSignature
	case p < w.badRate+w.dupRate:
		w.mu.Lock()
		if len(w.acked) > 0 {
			k, d = duplicate, w.acked[rng.IntN(len(w.acked))]
		}
		w.mu.Unlock()
	}
	if d.id == "" {
		d = w.fresh(rng)
	}
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	sig := w.sign(ts, d.body)
	if k == badSignature {
		sig = "sha256=" + strings.Repeat("0", 64)
	}
	req, _ := http.NewRequest(http.MethodPost, w.url, bytes.NewReader(d.body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Webhook-ID", d.id)
	req.Header.Set("X-Webhook-Timestamp", ts)
	req.Header.Set("X-Webhook-Signature", sig)
	req.Header.Set(benchSubjectHeader, d.subject)
	return req, k, d
}

// benchSubjectHeader carries the delivery's journal subject to the
// verify+publish baseline, so that it stores on as many distinct subjects as
// the connector without parsing the body.
const benchSubjectHeader = "X-Bench-Subject"

// fresh returns a delivery not sent before.
func (w *workload) fresh(rng *rand.Rand) delivered {
	n := w.seq.Add(1)
	id := fmt.Sprintf("whd_%s_%d", w.run, n)
	if n%5 != 0 {
		conv := rng.IntN(w.shape.conversations)
		agent := conv % w.shape.agents
		return delivered{id: id, body: smsBody(n, conv, agent),
			subject: fmt.Sprintf("agentphone.message.conv_%d.sms.agt_%d", conv, agent)}
	}
	call := fmt.Sprintf("call_%s_%d", w.run, n)
	agent := rng.IntN(w.shape.agents)
	if w.shape.calls > 0 {
		c := rng.IntN(w.shape.calls)
		call, agent = fmt.Sprintf("call_%d", c), c%w.shape.agents
	}
	return delivered{id: id, body: callEndedBody(call, agent),
		subject: fmt.Sprintf("agentphone.call_ended.%s.voice.agt_%d", call, agent)}
}

func (w *workload) sign(ts string, body []byte) string {
	m := hmac.New(sha256.New, []byte(w.secret))
	m.Write([]byte(ts + "."))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

func (w *workload) ack(d delivered) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.acked) < cap(w.acked) {
		w.acked = append(w.acked, d)
		return
	}
	w.acked[w.next] = d
	w.next = (w.next + 1) % len(w.acked)
}

// result is what one phase measured.
type result struct {
	requests  int
	elapsed   time.Duration
	latencies []time.Duration
	codes     map[int]int
	wrong     int // answers that do not fit the request (a bad signature accepted, a good one refused)
}

func (r *result) rate() float64 { return float64(r.requests) / r.elapsed.Seconds() }

func (r *result) pct(p float64) time.Duration {
	if len(r.latencies) == 0 {
		return 0
	}
	return r.latencies[min(len(r.latencies)-1, int(float64(len(r.latencies))*p))]
}

type recorder struct {
	mu sync.Mutex
	r  result
}

func (rc *recorder) add(lat time.Duration, code int, ok bool) {
	rc.mu.Lock()
	rc.r.requests++
	rc.r.latencies = append(rc.r.latencies, lat)
	rc.r.codes[code]++
	if !ok {
		rc.r.wrong++
	}
	rc.mu.Unlock()
}

func (w *workload) send(client *http.Client, rng *rand.Rand, rc *recorder, start time.Time) {
	req, k, d := w.request(rng)
	code := 0
	if resp, err := client.Do(req); err == nil {
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		code = resp.StatusCode
	}
	ok := code == 401 && k == badSignature || code == 200 && k != badSignature
	if code == 200 && k == fresh {
		w.ack(d)
		if w.onAck != nil {
			w.onAck(d.id, time.Now())
		}
	}
	rc.add(time.Since(start), code, ok)
}

// closedLoop runs c senders back to back for d: the throughput test.
func (w *workload) closedLoop(ctx context.Context, client *http.Client, c int, d time.Duration) result {
	rc := &recorder{r: result{codes: map[int]int{}}}
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	var wg sync.WaitGroup
	start := time.Now()
	for i := range c {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(i), uint64(start.UnixNano())))
			for ctx.Err() == nil {
				w.send(client, rng, rc, time.Now())
			}
		}()
	}
	wg.Wait()
	rc.r.elapsed = time.Since(start)
	return rc.finish()
}

// openLoop sends at a fixed rate for d; latency counts from when each request
// was due, so a slow server cannot hide its queueing.
func (w *workload) openLoop(ctx context.Context, client *http.Client, rate int, d time.Duration) result {
	rc := &recorder{r: result{codes: map[int]int{}}}
	due := make(chan time.Time, rate)
	var wg sync.WaitGroup
	for i := range 256 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(i), 7))
			for t := range due {
				w.send(client, rng, rc, t)
			}
		}()
	}
	start := time.Now()
	interval := time.Second / time.Duration(rate)
	for n := 0; ; n++ {
		t := start.Add(time.Duration(n) * interval)
		if t.Sub(start) >= d || ctx.Err() != nil {
			break
		}
		time.Sleep(time.Until(t))
		due <- t
	}
	close(due)
	wg.Wait()
	rc.r.elapsed = time.Since(start)
	return rc.finish()
}

func (rc *recorder) finish() result {
	slices.Sort(rc.r.latencies)
	return rc.r
}

func smsBody(n int64, conv, agent int) []byte {
	return []byte(fmt.Sprintf(`{"event":"agent.message","channel":"sms","timestamp":"2026-03-02T17:04:11Z","agentId":"agt_%d","data":{"messageId":"msg_%d","conversationId":"conv_%d","numberId":"num_41c8d2","from":"+14155550123","to":"+14155550999","contact":null,"message":"Can I move my appointment to 3pm? Also, is parking available near the office on Fridays?","mediaUrl":null,"mediaUrls":[],"direction":"inbound","receivedAt":"2026-03-02T17:04:10Z"},"conversationState":{"customerId":"c_123","stage":"rescheduling"},"recentHistory":[{"messageId":"msg_2b90aa","content":"Your appointment is at 2pm tomorrow.","direction":"outbound","channel":"sms","at":"2026-03-02T16:00:00Z"}]}`, agent, n, conv))
}

func callEndedBody(call string, agent int) []byte {
	return []byte(fmt.Sprintf(`{"event":"agent.call_ended","channel":"voice","timestamp":"2026-03-02T14:05:31Z","agentId":"agt_%d","data":{"callId":"%s","numberId":"num_41c8d2","from":"+14155550123","to":"+14155550999","contact":null,"direction":"inbound","status":"completed","startedAt":"2026-03-02T14:00:00Z","endedAt":"2026-03-02T14:05:30Z","durationSeconds":330,"disconnectionReason":"user_hangup","transcript":[%s],"summary":"Caller asked about order status; told it shipped.","userSentiment":"Neutral","callSuccessful":true}}`, agent, call, transcript))
}

// transcript is the turns of a call_ended body: about 1.5 KB.
var transcript = func() string {
	var turns []string
	for t := 0; t < 16; t++ {
		turns = append(turns, fmt.Sprintf(`{"role":%q,"content":"Turn %d of the call: a sentence of ordinary length about an order and its delivery."}`, []string{"agent", "user"}[t%2], t))
	}
	return strings.Join(turns, ",")
}()
