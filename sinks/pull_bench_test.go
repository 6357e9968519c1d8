package sinks

import (
	"context"
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/agentphone-connector/connector/natsserver/natsservertest"
	"github.com/nats-io/nats.go/jetstream"
)

// BenchmarkPull reads the same journal in batches of 500 through the sinks'
// hand-written puller and through jetstream's Consumer.Fetch, alternating
// them in one run, and reports messages per second and process CPU per
// message of each, with their ratios (puller over Fetch). The puller stays
// only while it is measurably cheaper; end to end (BenchmarkJournalToKafka)
// Fetch cost about 2 us of CPU per event more:
//
//	go test -run '^$' -bench Pull -benchtime 6x ./sinks/
func BenchmarkPull(b *testing.B) {
	const events, size = 20000, 500
	ctx := context.Background()
	js, _ := natsservertest.JetStream(b, natsservertest.Embedded(b, nil))
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
	var pull, fetch cost
	for i := 0; b.Loop(); i++ {
		rounds := []func(){
			func() {
				pull.add(round(b, ctx, s, "p", events, func(c jetstream.Consumer) int { return pullAll(b, js, c, size) }))
			},
			func() {
				fetch.add(round(b, ctx, s, "f", events, func(c jetstream.Consumer) int { return fetchAll(b, c, size) }))
			},
		}
		rounds[i%2]()
		rounds[(i+1)%2]()
	}
	n := float64(b.N * events)
	b.ReportMetric(n/pull.wall.Seconds(), "puller-msgs/s")
	b.ReportMetric(n/fetch.wall.Seconds(), "fetch-msgs/s")
	b.ReportMetric(fetch.wall.Seconds()/pull.wall.Seconds(), "speed-ratio")
	b.ReportMetric(float64(pull.cpu.Nanoseconds())/n, "puller-cpu-ns/msg")
	b.ReportMetric(float64(fetch.cpu.Nanoseconds())/n, "fetch-cpu-ns/msg")
}

type cost struct{ wall, cpu time.Duration }

func (c *cost) add(o cost) { c.wall += o.wall; c.cpu += o.cpu }

// round reads the whole stream through a new consumer with read and
// returns the wall and process CPU time it took.
func round(b *testing.B, ctx context.Context, s jetstream.Stream, name string, want int, read func(jetstream.Consumer) int) cost {
	c, err := s.CreateOrUpdateConsumer(ctx, jetstream.ConsumerConfig{Durable: name, AckPolicy: jetstream.AckAllPolicy, MaxAckPending: 1500})
	if err != nil {
		b.Fatal(err)
	}
	defer func() { _ = s.DeleteConsumer(ctx, name) }()
	start, cpu := time.Now(), cpuTime(b)
	if got := read(c); got != want {
		b.Fatalf("read %d of %d", got, want)
	}
	return cost{time.Since(start), cpuTime(b) - cpu}
}

func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// pullAll reads the consumer to its end with the puller, decoding each
// message's metadata as the reader does.
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
		for _, m := range msgs {
			if _, err := m.Metadata(); err != nil {
				b.Fatal(err)
			}
		}
		n += len(msgs)
		_ = msgs[len(msgs)-1].Ack()
	}
}

// fetchAll reads the consumer to its end with Fetch, the same way.
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
			if _, err := m.Metadata(); err != nil {
				b.Fatal(err)
			}
			last, k = m, k+1
		}
		if k == 0 {
			return n
		}
		n += k
		_ = last.Ack()
	}
}
