package deploy

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/agentphone-connector/connector/journal/journaltest"
	"github.com/agentphone-connector/connector/natsserver/natsservertest"
)

// replicasOn starts two connector processes on the cluster, as replicas
// behind a load balancer, with the journal stream at three replicas.
// Neither writes anything locally (their working directories are read-only
// and they have no data directory).
func replicasOn(t *testing.T, c *natsservertest.Cluster) []*process {
	t.Helper()
	env := []string{
		"NATS_URL=" + c.URLs(),
		"CONNECTOR_JOURNAL_REPLICAS=3",
		"CONNECTOR_HTTP_ADDR=127.0.0.1:0",
		"CONNECTOR_ADMIN_ADDR=127.0.0.1:0",
		"AGENTPHONE_WEBHOOK_SECRET=" + testSecret,
		// Without the in-process cache every duplicate is decided by the
		// journal, whichever replica sees it.
		"CONNECTOR_DEDUPE_CACHE_SIZE=0",
	}
	replicas := []*process{startConnector(t, emptyDir(t), env...), startConnector(t, emptyDir(t), env...)}
	for _, p := range replicas {
		p.waitReady(t)
	}
	return replicas
}

// Two connector processes on a three-node JetStream cluster: each delivery
// of a webhook reaches both at the same moment, and so does each second
// agent.call_ended of a call under another ID; both answer 200 (one
// accepted, one duplicate) every time, and the journal holds each once.
func TestReplicasOnAClusterJournalOnce(t *testing.T) {
	c := natsservertest.StartCluster(t, 3)
	replicas := replicasOn(t, c)
	sms := smsBody(t)
	const rounds = 40
	for i := range rounds {
		ids := []string{fmt.Sprintf("whd_replicas_%02d", i), fmt.Sprintf("whd_replicas_%02d", i)}
		bodies := [][]byte{sms, sms}
		if i%2 == 1 {
			call := callEndedBody(t, fmt.Sprintf("call_replicas_%02d", i))
			ids[1], bodies = ids[0]+"_again", [][]byte{call, call}
		}
		statuses := deliverToAllAtOnce(t, replicas, ids, bodies)
		if statuses["accepted"] != 1 || statuses["duplicate"] != 1 {
			t.Errorf("%s: answers %v, want one accepted and one duplicate, both 200", ids[0], statuses)
		}
	}
	if n := len(journaltest.Events(t, clusterConn(t, c), "AGENTPHONE")); n != rounds {
		t.Errorf("the journal holds %d events, want %d (one per webhook ID and per call)", n, rounds)
	}
	for _, p := range replicas {
		p.stop(t)
	}
}

// The node leading the journal stream is killed while two replicas take a
// steady flow of deliveries. Deliveries answered other than 200 are sent
// again, as AgentPhone does; every acknowledged ID is journaled exactly
// once, and the test reports how long no delivery was acknowledged and how
// many answers were 503.
func TestStreamLeaderKilledUnderLoad(t *testing.T) {
	c := natsservertest.StartCluster(t, 3)
	replicas := replicasOn(t, c)
	nc := clusterConn(t, c)
	js, _ := jetstream.New(nc)

	load := newSteadyLoad(replicas, smsBody(t))
	ctx, stop := context.WithCancel(context.Background())
	done := load.run(ctx, 8)
	load.waitAcked(t, 200)
	leader := streamLeader(t, js)
	killed := time.Now()
	c.Kill(c.Index(leader))
	load.waitAcked(t, load.acked.Load()+400)
	stop()
	<-done

	gap, unavailable := load.outage(killed)
	t.Logf("stream leader %s killed: no delivery acknowledged for %v; %d answers 503 before a retry went through; %d deliveries acknowledged",
		leader, gap.Round(time.Millisecond), unavailable, load.acked.Load())
	if other := load.otherAnswers.Load(); other > 0 {
		t.Errorf("%d answers neither 200 nor 503", other)
	}
	counts := map[string]int{}
	for _, s := range journaltest.Events(t, nc, "AGENTPHONE") {
		counts[s.Event.ID]++
	}
	for _, id := range load.ackedIDs() {
		if counts[id] != 1 {
			t.Errorf("%s acknowledged, journaled %d times", id, counts[id])
		}
	}
	for id, n := range counts {
		if n > 1 {
			t.Errorf("%s journaled %d times", id, n)
		}
	}
	for _, p := range replicas {
		p.stop(t)
	}
}

// steadyLoad delivers new IDs to the replicas in turn, each until it is
// answered 200, and records when answers came.
type steadyLoad struct {
	replicas     []*process
	body         []byte
	next         atomic.Int64
	acked        atomic.Int64
	otherAnswers atomic.Int64
	mu           sync.Mutex
	ids          []string
	answers      []answerAt
	progress     chan struct{} // closed and replaced at each acknowledgement
}

type answerAt struct {
	sent, at time.Time
	code     int
}

func newSteadyLoad(replicas []*process, body []byte) *steadyLoad {
	return &steadyLoad{replicas: replicas, body: body, progress: make(chan struct{})}
}

// run starts n senders and returns a channel closed once they have stopped.
func (l *steadyLoad) run(ctx context.Context, n int) <-chan struct{} {
	done := make(chan struct{})
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			for ctx.Err() == nil {
				l.deliverUntilAcked(ctx)
			}
		})
	}
	go func() { wg.Wait(); close(done) }()
	return done
}

func (l *steadyLoad) deliverUntilAcked(ctx context.Context) {
	i := l.next.Add(1)
	id := fmt.Sprintf("whd_load_%06d", i)
	for attempt := int(i); ctx.Err() == nil; attempt++ {
		sent := time.Now()
		code, _, _ := deliver(l.replicas[attempt%len(l.replicas)].webhook, testSecret, id, l.body)
		l.record(id, answerAt{sent: sent, at: time.Now(), code: code})
		if code == http.StatusOK {
			return
		}
		select {
		case <-ctx.Done():
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func (l *steadyLoad) record(id string, a answerAt) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.answers = append(l.answers, a)
	switch a.code {
	case http.StatusOK:
		l.ids = append(l.ids, id)
		l.acked.Add(1)
		close(l.progress)
		l.progress = make(chan struct{})
	case http.StatusServiceUnavailable:
	default:
		l.otherAnswers.Add(1)
	}
}

// waitAcked waits until n deliveries have been acknowledged.
func (l *steadyLoad) waitAcked(t *testing.T, n int64) {
	t.Helper()
	timeout := time.After(2 * time.Minute)
	for {
		l.mu.Lock()
		ch := l.progress
		l.mu.Unlock()
		if l.acked.Load() >= n {
			return
		}
		select {
		case <-ch:
		case <-timeout:
			t.Fatalf("%d deliveries acknowledged after two minutes, want %d", l.acked.Load(), n)
		}
	}
}

func (l *steadyLoad) ackedIDs() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.ids...)
}

// outage returns the longest time after from with no delivery acknowledged,
// and how many answers were 503.
func (l *steadyLoad) outage(from time.Time) (gap time.Duration, unavailable int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	last := from
	for _, a := range l.answers {
		if a.code == http.StatusServiceUnavailable {
			unavailable++
		}
		if a.code != http.StatusOK || a.at.Before(from) {
			continue
		}
		gap = max(gap, a.at.Sub(last))
		last = a.at
	}
	return gap, unavailable
}

func streamLeader(t *testing.T, js jetstream.JetStream) string {
	t.Helper()
	s, err := js.Stream(context.Background(), "AGENTPHONE")
	if err != nil {
		t.Fatal(err)
	}
	info := s.CachedInfo()
	if info.Cluster == nil || info.Cluster.Leader == "" || len(info.Cluster.Replicas) != 2 {
		t.Fatalf("the journal stream is not replicated three times: %+v", info.Cluster)
	}
	return info.Cluster.Leader
}

func clusterConn(t *testing.T, c *natsservertest.Cluster) *nats.Conn {
	t.Helper()
	nc, err := nats.Connect(c.URLs(), nats.MaxReconnects(-1))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	return nc
}

// deliverToAllAtOnce sends delivery i (ids[i], bodies[i]) to replica i, all
// released together, and counts the answers' statuses; any answer but 200
// fails the test.
func deliverToAllAtOnce(t *testing.T, replicas []*process, ids []string, bodies [][]byte) map[string]int {
	t.Helper()
	type answer struct {
		code   int
		status string
		err    error
	}
	start := make(chan struct{})
	answers := make(chan answer, len(replicas))
	for i, p := range replicas {
		go func() {
			<-start
			code, status, err := deliver(p.webhook, testSecret, ids[i], bodies[i])
			answers <- answer{code, status, err}
		}()
	}
	close(start)
	statuses := map[string]int{}
	for range replicas {
		a := <-answers
		if a.err != nil || a.code != http.StatusOK {
			t.Errorf("%s: %d %v, want 200", ids[0], a.code, a.err)
		}
		statuses[a.status]++
	}
	return statuses
}

// callEndedBody is the call_ended fixture about call.
func callEndedBody(t *testing.T, call string) []byte {
	t.Helper()
	b, err := os.ReadFile("../testdata/agentphone/call_ended.json")
	if err != nil {
		t.Fatal(err)
	}
	return bytes.ReplaceAll(b, []byte("call_c0ffee"), []byte(call))
}
