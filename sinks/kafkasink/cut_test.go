package kafkasink_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kmsg"

	connector "github.com/agentphone-connector/connector"
	"github.com/agentphone-connector/connector/sinks"
	"github.com/agentphone-connector/connector/sinks/sinktest"
)

// TestWriteCutShortLandsOnce: a write whose ctx ends while the broker
// holds its produce request leaves that request running; it lands later.
// The retry must not write the events again, even though the request was
// still in flight when the retry began: the writer waits for kafka-go's
// answer before it reads the partitions back. The held request is let go
// by the next produce request (a retry that did not wait would send one),
// or after two seconds.
func TestWriteCutShortLandsOnce(t *testing.T) {
	k := startCluster(t, kfake.SeedTopics(testPartitions, testTopic))
	var once sync.Once
	release, held := make(chan struct{}), make(chan struct{})
	let := func() { once.Do(func() { close(release) }) }
	var first sync.Once
	k.ControlKey(int16(kmsg.Produce), func(kmsg.Request) (kmsg.Response, error, bool) {
		k.KeepControl()
		hold := false
		first.Do(func() { hold = true })
		if !hold {
			let()
			return nil, nil, false
		}
		close(held)
		k.SleepControl(func() { <-release })
		return nil, nil, false // now the broker writes it
	})
	w := newWriter(t, testConfig(k))
	defer w.Close(context.Background())
	if err := w.Resume(t.Context(), resumeNone); err != nil {
		t.Fatal(err)
	}
	events := sinktest.Events("cut", 10, 1) // one key: one partition, one produce request
	ctx, cancel := context.WithCancel(context.Background())
	go func() { <-held; cancel() }()
	if err := w.Write(ctx, events); err == nil {
		t.Fatal("the write cut short reported success")
	}
	timer := time.AfterFunc(2*time.Second, let)
	defer timer.Stop()
	err := w.Write(context.Background(), events)
	for i := range events {
		if e := connector.ErrorAt(err, i); e != nil && !errors.Is(e, connector.ErrAlreadyWritten) {
			t.Fatalf("retry: event %d: %v", i, e)
		}
	}
	got := (&target{c: k, cfg: testConfig(k)}).Read(t)
	if d := sinktest.Duplicates(got); d != 0 || len(sinktest.Dedupe(got)) != len(events) {
		t.Fatalf("%d records, %d duplicates; want each of %d once", len(got), d, len(events))
	}
}

var resumeNone = sinks.Resume{}
