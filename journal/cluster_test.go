package journal_test

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	connector "github.com/agentphone-connector/connector"
	"github.com/agentphone-connector/connector/journal"
	"github.com/agentphone-connector/connector/journal/journaltest"
	"github.com/agentphone-connector/connector/natsserver/natsservertest"
)

func clusterConfig() journal.Config {
	cfg := journaltest.Config()
	cfg.Replicas = 3
	cfg.AppendTimeout = 10 * time.Second
	return cfg
}

// connect connects to one node of the cluster (url), reconnecting to any.
func connect(t *testing.T, c *natsservertest.Cluster, first string) *nats.Conn {
	t.Helper()
	urls := first + "," + c.URLs()
	nc, err := nats.Connect(urls, nats.DontRandomize(), nats.MaxReconnects(-1), nats.ReconnectWait(50*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	return nc
}

// Two replicas of the connector, each connected to another node of a
// three-node cluster, take the same delivery at the same moment, again and
// again: both succeed (one journals it, the other reports a duplicate) and
// the stream holds it once. On a cluster the second publish is often
// answered "duplicate message id is in process" (or, for a second
// agent.call_ended of a call, "wrong last sequence" without one) while the
// first is being replicated; that is not an outcome, so it is asked again.
func TestSimultaneousAppendsOnACluster(t *testing.T) {
	c := natsservertest.StartCluster(t, 3)
	urls := strings.Split(c.URLs(), ",")
	ctx := context.Background()
	var replicas []*journal.Journal
	for i := range 2 {
		j, err := journal.Open(ctx, connect(t, c, urls[i]), clusterConfig(), journal.Settings{Logger: journaltest.Discard()})
		if err != nil {
			t.Fatal(err)
		}
		replicas = append(replicas, j)
	}
	const rounds = 60
	for i := range rounds {
		// Even rounds: one webhook ID twice. Odd rounds: one call's
		// call_ended under two IDs (its webhook and backfill's record).
		events := []*connector.Event{event(fmt.Sprintf("whd_%d", i)), event(fmt.Sprintf("whd_%d", i))}
		if i%2 == 1 {
			events = []*connector.Event{callEnded(fmt.Sprintf("whd_%d", i), i), callEnded(fmt.Sprintf("call:%d", i), i)}
		}
		results := appendTogether(t, replicas, events)
		if results[0].Duplicate == results[1].Duplicate {
			t.Fatalf("round %d: %+v, want one journaled and one duplicate", i, results)
		}
	}
	if n := len(journaltest.Events(t, connect(t, c, urls[2]), "AGENTPHONE")); n != rounds {
		t.Fatalf("the stream holds %d events, want %d", n, rounds)
	}
}

func callEnded(id string, call int) *connector.Event {
	e := event(id)
	e.Type, e.Channel = "ai.agentphone.agent.call_ended", "voice"
	e.Subject = fmt.Sprintf("call_%d", call)
	e.CallID = e.Subject
	return e
}

// appendTogether appends events[i] to replicas[i], all released at once,
// and fails the test on any error.
func appendTogether(t *testing.T, replicas []*journal.Journal, events []*connector.Event) []connector.Appended {
	t.Helper()
	results := make([]connector.Appended, len(replicas))
	errs := make([]error, len(replicas))
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i, j := range replicas {
		wg.Go(func() {
			<-start
			results[i], errs[i] = j.Append(context.Background(), events[i])
		})
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("replica %d, %s: %v", i, events[i].ID, err)
		}
	}
	return results
}

// Open waits for a cluster that is still forming (one node of three up, so
// no JetStream leader) instead of failing, and opens the replicated stream
// once the others join.
func TestOpenWaitsForAFormingCluster(t *testing.T) {
	c := natsservertest.StartNodes(t, 3, 1)
	nc := connect(t, c, strings.Split(c.URLs(), ",")[0])
	waiting := make(chan struct{})
	log := slog.New(onRecord(func(r slog.Record) {
		if r.Level == slog.LevelWarn && strings.Contains(r.Message, "asking again") {
			close(waiting)
		}
	}))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	opened := make(chan error, 1)
	go func() {
		_, err := journal.Open(ctx, nc, clusterConfig(), journal.Settings{Logger: log})
		opened <- err
	}()
	select {
	case <-waiting:
	case err := <-opened:
		t.Fatalf("Open returned before the cluster formed: %v", err)
	}
	c.Start(1)
	c.Start(2)
	if err := <-opened; err != nil {
		t.Fatalf("Open: %v", err)
	}
}

// onRecord is a slog handler that passes each record to fn.
type onRecord func(slog.Record)

func (h onRecord) Enabled(context.Context, slog.Level) bool      { return true }
func (h onRecord) Handle(_ context.Context, r slog.Record) error { h(r); return nil }
func (h onRecord) WithAttrs([]slog.Attr) slog.Handler            { return h }
func (h onRecord) WithGroup(string) slog.Handler                 { return h }
