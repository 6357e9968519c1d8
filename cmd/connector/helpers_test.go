package main

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"os"
	"strconv"
	"testing"
	"time"
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
