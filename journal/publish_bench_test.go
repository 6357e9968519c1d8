package journal

import (
	"context"
	"log/slog"
	"strconv"
	"testing"
	"time"

	"github.com/agentphone-connector/connector/natsserver/natsservertest"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// BenchmarkPublish compares the journal's hand-written publish (request,
// ack decoded by the events' fast decoder) with jetstream.PublishMsg, on
// the same embedded server and stream, one synchronous publish with
// Nats-Msg-Id at a time as a webhook makes it. The hand-written one stays
// only while it is measurably faster:
//
//	go test -run '^$' -bench Publish -benchtime 20000x ./journal/
func BenchmarkPublish(b *testing.B) {
	ctx := context.Background()
	js, nc := natsservertest.JetStream(b, natsservertest.Embedded(b, nil))
	cfg := Config{Stream: "BENCH", SubjectPrefix: "bench", Replicas: 1, MaxAge: time.Hour, MaxBytes: -1, DedupeWindow: time.Hour, AppendTimeout: 5 * time.Second, Memory: true}
	j, err := Open(ctx, nc, cfg, Settings{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	body := make([]byte, 2000)
	msg := func(id string) *nats.Msg {
		m := nats.NewMsg("bench.message.sms.agt.conv")
		m.Data = body
		m.Header.Set(jetstream.MsgIDHeader, id)
		return m
	}
	b.Run("hand-written", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			if _, err := j.publish(ctx, msg("h"+strconv.Itoa(i))); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("jetstream", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			if _, err := js.PublishMsg(ctx, msg("j"+strconv.Itoa(i))); err != nil {
				b.Fatal(err)
			}
		}
	})
}
