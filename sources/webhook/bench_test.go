package webhook

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	connector "github.com/agentphone-connector/connector"
	"github.com/agentphone-connector/connector/dedupe"
	"github.com/agentphone-connector/connector/journal/journaltest"
)

// cpuTime is the CPU the process has used: a figure that holds up better than
// wall time on a machine shared with other work.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkIngest compares, on one real journal, the handler against the two
// baselines of the load benchmark: verifying only, and verifying plus one
// synchronous publish with Nats-Msg-Id. HTTP itself is left out.
func BenchmarkIngest(b *testing.B) {
	body := readFixture(b, "call_ended.json")
	env := journaltest.Start(b, nil)
	js, _ := jetstream.New(env.Conn)
	v := NewVerifier([]Secret{testSecret}, 5*time.Minute)
	var n atomic.Int64
	run := func(b *testing.B, serve func(w http.ResponseWriter, r *http.Request)) {
		b.SetBytes(int64(len(body)))
		b.ReportAllocs()
		cpu0 := cpuTime()
		defer func() { b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/op") }()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				ts := strconv.FormatInt(time.Now().Unix(), 10)
				req := httptest.NewRequest(http.MethodPost, PathPrefix, bytes.NewReader(body))
				req.Header.Set("X-Webhook-ID", fmt.Sprintf("whd_b_%d", n.Add(1)))
				req.Header.Set("X-Webhook-Timestamp", ts)
				req.Header.Set("X-Webhook-Signature", sign(testSecret, ts, body))
				w := httptest.NewRecorder()
				serve(w, req)
				if w.Code != http.StatusOK {
					b.Fatalf("answered %d %s", w.Code, w.Body)
				}
			}
		})
	}
	b.Run("verify", func(b *testing.B) {
		run(b, func(w http.ResponseWriter, r *http.Request) {
			var buf bytes.Buffer
			buf.ReadFrom(r.Body)
			if v.Verify(buf.Bytes(), r.Header.Get("X-Webhook-Signature"), r.Header.Get("X-Webhook-Timestamp"), time.Now()) != nil {
				w.WriteHeader(401)
			}
		})
	})
	b.Run("verify+publish", func(b *testing.B) {
		run(b, func(w http.ResponseWriter, r *http.Request) {
			var buf bytes.Buffer
			buf.ReadFrom(r.Body)
			if v.Verify(buf.Bytes(), r.Header.Get("X-Webhook-Signature"), r.Header.Get("X-Webhook-Timestamp"), time.Now()) != nil {
				w.WriteHeader(401)
				return
			}
			msg := &nats.Msg{Subject: "agentphone.bench", Data: buf.Bytes()}
			if _, err := js.PublishMsg(context.Background(), msg, jetstream.WithMsgID(r.Header.Get("X-Webhook-ID"))); err != nil {
				w.WriteHeader(503)
			}
		})
	})
	b.Run("handler-encode-only", func(b *testing.B) {
		h := NewHandler(testConfig(), encodeOnly{}, Settings{Logger: journaltest.Discard()})
		run(b, h.ServeHTTP)
	})
	b.Run("handler", func(b *testing.B) {
		g, _ := dedupe.New(env.Journal, env.Config.DedupeWindow, dedupe.Config{CacheSize: 100000}, dedupe.Settings{})
		h := NewHandler(testConfig(), g, Settings{Logger: journaltest.Discard()})
		run(b, h.ServeHTTP)
	})
}

// encodeOnly encodes events as the journal does and keeps nothing: the
// handler's own cost, without NATS.
type encodeOnly struct{}

func (encodeOnly) Append(_ context.Context, e *connector.Event) (connector.Appended, error) {
	_, err := e.Marshal()
	return connector.Appended{}, err
}
