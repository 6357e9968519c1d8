package main

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/agentphone-connector/connector/journal/journaltest"
	"github.com/agentphone-connector/connector/natsserver"
)

const testSecret = "whsec_test_5f2b8c1e9a7d4"

func sign(ts string, body []byte) string {
	m := hmac.New(sha256.New, []byte(testSecret))
	m.Write([]byte(ts + "."))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("../../testdata/agentphone/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// signedRequest is a delivery of body as AgentPhone makes it at time at.
func signedRequest(base, id string, body []byte, at time.Time) *http.Request {
	req, err := http.NewRequest(http.MethodPost, base+"/webhooks/agentphone", bytes.NewReader(body))
	if err != nil {
		panic(err) // a malformed base URL: a bug in the test
	}
	ts := strconv.FormatInt(at.Unix(), 10)
	req.Header.Set("X-Webhook-ID", id)
	req.Header.Set("X-Webhook-Timestamp", ts)
	req.Header.Set("X-Webhook-Signature", sign(ts, body))
	return req
}

// post delivers the SMS fixture under id and returns the status code.
func post(t testing.TB, base, id string, at time.Time) int {
	t.Helper()
	resp, err := http.DefaultClient.Do(signedRequest(base, id, fixture(t, "sms_inbound.json"), at))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// journalIDs opens the journal a stopped connector left in dataDir and counts
// the messages of each Nats-Msg-Id.
func journalIDs(t testing.TB, dataDir string) map[string]int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	ns, err := natsserver.Start(ctx, natsserver.Config{Listen: "none", MaxPayload: 8 << 20, StoreDir: dataDir, StartWait: 30 * time.Second}, journaltest.Discard())
	if err != nil {
		t.Fatal(err)
	}
	defer ns.Shutdown(ctx)
	nc, err := ns.Connect()
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	s, err := js.Stream(ctx, "AGENTPHONE")
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]int{}
	st := s.CachedInfo().State
	for seq := st.FirstSeq; st.Msgs > 0 && seq <= st.LastSeq; seq++ {
		m, err := s.GetMsg(ctx, seq)
		if err != nil {
			t.Fatalf("seq %d: %v", seq, err)
		}
		ids[m.Header.Get(jetstream.MsgIDHeader)]++
	}
	return ids
}
