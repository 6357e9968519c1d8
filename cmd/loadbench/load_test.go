package main

import (
	"context"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/agentphone-connector/connector"
	"github.com/agentphone-connector/connector/sources/webhook"
	"github.com/agentphone-connector/connector/transform"
)

// The workload's requests are answered as they should be by a verifying
// server: its bad signatures are refused, everything else accepted.
func TestWorkloadAgainstAVerifier(t *testing.T) {
	v := webhook.NewVerifier([]webhook.Secret{benchSecret}, 5*time.Minute)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if v.Verify(body, r.Header.Get("X-Webhook-Signature"), r.Header.Get("X-Webhook-Timestamp"), time.Now()) != nil {
			w.WriteHeader(401)
		}
	}))
	defer srv.Close()
	w := newWorkload(srv.URL, benchSecret, "t", traffic{agents: 100, conversations: 50})
	res := w.closedLoop(context.Background(), srv.Client(), 4, 300*time.Millisecond)
	if res.requests < 50 || res.wrong != 0 || res.codes[200] == 0 {
		t.Fatalf("%d requests, %d wrong answers, codes %v", res.requests, res.wrong, res.codes)
	}
	// The mix: about 1% bad signatures and 10% repeats of acknowledged IDs.
	kinds := map[kind]int{}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 10000 {
		_, k, _ := w.request(rng)
		kinds[k]++
	}
	if kinds[badSignature] < 50 || kinds[badSignature] > 150 || kinds[duplicate] < 800 || kinds[duplicate] > 1200 {
		t.Fatalf("mix of 10000 requests: %v", kinds)
	}
	for _, b := range [][]byte{smsBody(1, 2, 3), callEndedBody("call_1", 5)} {
		if len(b) < 400 || len(b) > 2300 {
			t.Fatalf("body of %d bytes", len(b))
		}
	}
}

// The deliveries spread over the traffic's agents and conversations, each
// conversation with one agent, and carry the subject the connector gives
// them.
func TestWorkloadCardinalities(t *testing.T) {
	w := newWorkload("", "", "t", traffic{agents: 1000, conversations: 500})
	agents, convs, calls := map[string]bool{}, map[string]bool{}, map[string]bool{}
	rng := rand.New(rand.NewPCG(3, 4))
	for range 20000 {
		d := w.fresh(rng)
		e := transform.Normalize(transform.Meta{ID: d.id, Source: "test", ReceivedAt: time.Now()}, d.body)
		if e.Status != connector.StatusOK || e.SubjectIn("agentphone") != d.subject {
			t.Fatalf("%s: status %s, subject %s, want %s", d.id, e.Status, e.SubjectIn("agentphone"), d.subject)
		}
		agents[e.AgentID] = true
		if e.ConversationID != "" {
			convs[e.ConversationID] = true
		}
		if e.CallID != "" {
			calls[e.CallID] = true
		}
	}
	if len(agents) < 900 || len(convs) != 500 || len(calls) != 4000 {
		t.Fatalf("%d agents, %d conversations, %d calls", len(agents), len(convs), len(calls))
	}
}
