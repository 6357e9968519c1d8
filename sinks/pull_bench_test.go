package sinks

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/agentphone-connector/connector/natsserver"
)

// BenchmarkPull reads the same journal in batches of 500 through the sinks'
// hand-written puller and through jetstream's Consumer.Fetch, alternating
// them in one run, and reports messages per second of each and their
// ratio (puller/fetch). The puller stays only while it is measurably
// faster:
//
//	go test -run '^$' -bench Pull -benchtime 5x ./sinks/
func BenchmarkPull(b *testing.B) {
	const events, size = 20000, 500
	ctx := context.Background()
	ns, err := natsserver.Start(ctx, natsserver.Config{Listen: "none", MaxPayload: 8 << 20, StoreDir: b.TempDir(), StartWait: 20 * time.Second}, slog.New(slog.DiscardHandler))
	if err != nil {
		b.Fatal(err)
	}
	defer func() { _ = ns.Shutdown(ctx) }()
	nc, err := ns.Connect()
	if err != nil {
		b.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		b.Fatal(err)
	}
	s, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "J", Subjects: []string{"j.>"}, Storage: jetstream.MemoryStorage})
	if err != nil {
		b.Fatal(err)
	}
	body := []byte(`{"id":"x","data":"` + strings.Repeat("lorem ipsum ", 60) + `"}`)
	for i := range events {
		if _, err := js.PublishAsync(fmt.Sprintf("j.%d", i%64), body); err != nil {
			b.Fatal(err)
		}
	}
	<-js.PublishAsyncComplete()
	var tPull, tFetch time.Duration
	for i := 0; b.Loop(); i++ {
		pullRound := func() { tPull += round(b, ctx, s, "p", func(c jetstream.Consumer) int { return pullAll(b, js, c, size) }) }
		fetchRound := func() { tFetch += round(b, ctx, s, "f", func(c jetstream.Consumer) int { return fetchAll(b, c, size) }) }
		if i%2 == 0 {
			pullRound()
			fetchRound()
		} else {
			fetchRound()
			pullRound()
		}
	}
	n := float64(b.N * events)
	b.ReportMetric(n/tPull.Seconds(), "puller-msgs/s")
	b.ReportMetric(n/tFetch.Seconds(), "fetch-msgs/s")
	b.ReportMetric(tFetch.Seconds()/tPull.Seconds(), "ratio")
}

// round reads the whole stream through a new consumer with read and
// returns the time it took.
func round(b *testing.B, ctx context.Context, s jetstream.Stream, name string, read func(jetstream.Consumer) int) time.Duration {
	c, err := s.CreateOrUpdateConsumer(ctx, jetstream.ConsumerConfig{Durable: name, AckPolicy: jetstream.AckAllPolicy, MaxAckPending: 1500})
	if err != nil {
		b.Fatal(err)
	}
	defer func() { _ = s.DeleteConsumer(ctx, name) }()
	start := time.Now()
	if got := read(c); got != int(s.CachedInfo().State.Msgs) {
		b.Fatalf("read %d of %d", got, s.CachedInfo().State.Msgs)
	}
	return time.Since(start)
}

func pullAll(b *testing.B, js jetstream.JetStream, c jetstream.Consumer, size int) int {
	p := newPuller(js, "J", c.CachedInfo().Name)
	n := 0
	for {
		msgs, err := p.fetch(size, 0, 100*time.Millisecond)
		if err != nil {
			b.Fatal(err)
		}
		if len(msgs) == 0 {
			return n
		}
		n += len(msgs)
		_ = msgs[len(msgs)-1].Ack()
	}
}

func fetchAll(b *testing.B, c jetstream.Consumer, size int) int {
	n := 0
	for {
		batch, err := c.Fetch(size, jetstream.FetchMaxWait(100*time.Millisecond))
		if err != nil {
			b.Fatal(err)
		}
		var last jetstream.Msg
		k := 0
		for m := range batch.Messages() {
			last, k = m, k+1
		}
		if k == 0 {
			return n
		}
		n += k
		_ = last.Ack()
	}
}
