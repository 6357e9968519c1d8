package deploy

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Two connector processes on one external nats-server, as replicas behind a
// load balancer: each delivery of a webhook reaches both at the same moment,
// both answer 200, and the journal holds it once. Neither writes anything
// locally (their working directories are read-only and they have no data
// directory). The server runs nats.conf, and the connectors as its
// connector user.
func TestReplicasOnOneNATSJournalOnce(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	url := startNATSConf(t)

	env := []string{
		"NATS_URL=" + url, "NATS_USER=connector", "NATS_PASSWORD=" + natsPasswords["connector"],
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

	body := smsBody(t)
	const deliveries = 20
	for i := range deliveries {
		id := fmt.Sprintf("whd_replicas_%02d", i)
		statuses := deliverToAllAtOnce(t, replicas, id, body)
		if statuses["accepted"] != 1 || statuses["duplicate"] != 1 {
			t.Errorf("%s: answers %v, want one accepted and one duplicate, both 200", id, statuses)
		}
	}

	nc, err := nats.Connect(url, nats.UserInfo("subscriber", natsPasswords["subscriber"]))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	s, err := js.Stream(ctx, "AGENTPHONE")
	if err != nil {
		t.Fatal(err)
	}
	if n := s.CachedInfo().State.Msgs; n != deliveries {
		t.Errorf("the journal holds %d events, want %d (one per webhook ID)", n, deliveries)
	}
	for _, p := range replicas {
		p.stop(t)
	}
}

// deliverToAllAtOnce sends one delivery of id to every replica, released
// together, and counts the answers' statuses; any answer but 200 fails the
// test.
func deliverToAllAtOnce(t *testing.T, replicas []*process, id string, body []byte) map[string]int {
	t.Helper()
	type answer struct {
		code   int
		status string
		err    error
	}
	start := make(chan struct{})
	answers := make(chan answer, len(replicas))
	for _, p := range replicas {
		go func() {
			<-start
			code, status, err := deliver(p.webhook, testSecret, id, body)
			answers <- answer{code, status, err}
		}()
	}
	close(start)
	statuses := map[string]int{}
	for range replicas {
		a := <-answers
		if a.err != nil || a.code != http.StatusOK {
			t.Errorf("%s: %d %v, want 200", id, a.code, a.err)
		}
		statuses[a.status]++
	}
	return statuses
}
