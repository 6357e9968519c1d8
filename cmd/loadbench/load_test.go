package main

import (
	"context"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/agentphone-connector/connector/sources/webhook"
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
	w := newWorkload(srv.URL, benchSecret, "t")
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
	for _, b := range [][]byte{w.sms[0], callEndedBody("t", 5)} {
		if len(b) < 400 || len(b) > 2300 {
			t.Fatalf("body of %d bytes", len(b))
		}
	}
}
