package webhook

import (
	"context"
	"fmt"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/agentphone-connector/connector/journal/journaltest"
)

// BenchmarkServeFastHTTP measures the listener as production runs it, over
// TCP on loopback: fasthttp, the body read, verification, normalization and
// the envelope's encoding (the journal left out). Compare runs side by side
// by their cpu-ns/op.
func BenchmarkServeFastHTTP(b *testing.B) {
	body := readFixture(b, "call_ended.json")
	cfg := testConfig()
	srv, err := Listen("127.0.0.1:0", NewHandler(cfg, encodeOnly{}, Settings{Logger: journaltest.Discard()}), cfg, time.Second, journaltest.Discard())
	if err != nil {
		b.Fatal(err)
	}
	defer srv.Shutdown(context.Background())
	client := &fasthttp.HostClient{Addr: srv.Addr(), MaxConns: 256}
	var n atomic.Int64
	for _, tc := range []struct {
		name string
		sig  func(ts string) string
		code int
	}{
		{"signed", func(ts string) string { return sign(testSecret, ts, body) }, 200},
		{"bad-signature", func(string) string { return "sha256=" + fmt.Sprintf("%064d", 0) }, 401},
	} {
		b.Run(tc.name, func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			cpu0 := cpuTime()
			defer func() { b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/op") }()
			b.RunParallel(func(pb *testing.PB) {
				req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
				defer fasthttp.ReleaseRequest(req)
				defer fasthttp.ReleaseResponse(resp)
				for pb.Next() {
					ts := strconv.FormatInt(time.Now().Unix(), 10)
					req.Reset()
					req.SetRequestURI("http://" + srv.Addr() + PathPrefix)
					req.Header.SetMethod(fasthttp.MethodPost)
					req.Header.Set("X-Webhook-ID", "whd_fb_"+strconv.FormatInt(n.Add(1), 10))
					req.Header.Set("X-Webhook-Timestamp", ts)
					req.Header.Set("X-Webhook-Signature", tc.sig(ts))
					req.SetBody(body)
					if err := client.Do(req, resp); err != nil {
						b.Fatal(err)
					}
					if resp.StatusCode() != tc.code {
						b.Fatalf("answered %d %s", resp.StatusCode(), resp.Body())
					}
				}
			})
		})
	}
}
