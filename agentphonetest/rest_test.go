package agentphonetest

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

func restServer(t *testing.T, opts Options) *Server {
	t.Helper()
	if opts.Account == nil {
		opts.Account = Generate(AccountOptions{Seed: 9, Calls: 45})
	}
	s, err := NewServer(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { closeServer(t, s) })
	return s
}

func decode[T any](t *testing.T, body []byte) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatalf("%v in %s", err, body)
	}
	return v
}

type errorEnvelope struct {
	Error struct {
		Message string       `json:"message"`
		Code    string       `json:"code"`
		Type    string       `json:"type"`
		Details []fieldError `json:"details"`
	} `json:"error"`
}

func TestAPIKey(t *testing.T) {
	s := restServer(t, Options{APIKey: "sk_live_right"})
	tests := []struct {
		name, auth string
		status     int
	}{
		{"right key", "Bearer sk_live_right", 200},
		{"scheme in any case", "bearer sk_live_right", 200},
		{"wrong key", "Bearer sk_live_wrong", 401},
		{"no key", "", 401},
		{"basic", "Basic c2tfbGl2ZV9yaWdodDo=", 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, path := range []string{"/v1/calls", "/v1/webhooks/deliveries", "/v1/calls/x/transcript/stream"} {
				resp, body := apiGet(t, s, path, tt.auth)
				if resp.StatusCode == 404 && tt.status == 200 {
					continue // the stream of an unknown call: authorized, then not found
				}
				if resp.StatusCode != tt.status {
					t.Errorf("%s: %d, want %d", path, resp.StatusCode, tt.status)
				}
				if tt.status == 401 {
					if e := decode[errorEnvelope](t, body); e.Error.Code != "UNAUTHORIZED" || e.Error.Type != "authentication_error" {
						t.Errorf("%s: error %s", path, body)
					}
				}
			}
		})
	}
}

func TestListCalls(t *testing.T) {
	s := restServer(t, Options{})
	all := s.Calls()
	count := func(keep func(Call) bool) int {
		n := 0
		for _, c := range all {
			if keep(c) {
				n++
			}
		}
		return n
	}
	type list struct {
		Data    []map[string]json.RawMessage `json:"data"`
		HasMore bool                         `json:"hasMore"`
		Total   int                          `json:"total"`
	}
	tests := []struct {
		query         string
		items, total  int
		hasMore       bool
		keep          func(string, string) bool // status, direction of each item
		firstStatusOK bool
	}{
		{query: "", items: 20, total: 45, hasMore: true},
		{query: "?limit=100", items: 45, total: 45},
		{query: "?limit=20&offset=40", items: 5, total: 45},
		{query: "?offset=100", items: 0, total: 45},
		{query: "?status=failed&limit=100", items: count(func(c Call) bool { return c.Status == StatusFailed }),
			keep: func(st, _ string) bool { return st == "failed" }},
		{query: "?direction=web&limit=100", items: count(func(c Call) bool { return c.Direction == "web" }),
			keep: func(_, d string) bool { return d == "web" }},
		{query: "?type=pstn&direction=inbound&limit=100", items: count(func(c Call) bool { return c.Direction == "inbound" }),
			keep: func(_, d string) bool { return d == "inbound" }},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			resp, body := apiGet(t, s, "/v1/calls"+tt.query)
			if resp.StatusCode != 200 {
				t.Fatalf("%d %s", resp.StatusCode, body)
			}
			l := decode[list](t, body)
			if tt.keep != nil {
				tt.total = tt.items
			}
			if len(l.Data) != tt.items || l.Total != tt.total || l.HasMore != tt.hasMore {
				t.Errorf("%d items of %d, hasMore %v; want %d of %d, %v", len(l.Data), l.Total, l.HasMore, tt.items, tt.total, tt.hasMore)
			}
			var starts []string
			for _, item := range l.Data {
				starts = append(starts, string(item["startedAt"]))
				if tt.keep != nil && !tt.keep(strings.Trim(string(item["status"]), `"`), strings.Trim(string(item["direction"]), `"`)) {
					t.Errorf("filter let through %s %s", item["status"], item["direction"])
				}
			}
			if !slices.IsSortedFunc(starts, func(a, b string) int { return strings.Compare(b, a) }) {
				t.Errorf("not newest first: %v", starts)
			}
		})
	}
	t.Run("summary keys", func(t *testing.T) {
		_, body := apiGet(t, s, "/v1/calls?limit=1")
		var keys []string
		for k := range decode[list](t, body).Data[0] {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		want := []string{"agentId", "direction", "durationSeconds", "endedAt", "fromNumber", "id", "lastTranscriptSnippet",
			"phoneNumber", "phoneNumberId", "recordingAvailable", "recordingUrl", "startedAt", "status", "toNumber"}
		if !slices.Equal(keys, want) {
			t.Errorf("keys %v, want %v", keys, want)
		}
	})
}

func TestListCallsLive(t *testing.T) {
	s := restServer(t, Options{})
	call, err := s.StartCall(Call{Direction: "outbound"})
	if err != nil {
		t.Fatal(err)
	}
	_, body := apiGet(t, s, "/v1/calls?status=in-progress")
	l := decode[callList](t, body)
	if l.Total != 1 || l.Data[0].ID != call.ID || l.Data[0].EndedAt != nil || l.Data[0].DurationSeconds != nil ||
		l.Data[0].FromNumber != call.PhoneNumber {
		t.Errorf("in-progress list %s", body)
	}
}

func TestValidationErrors(t *testing.T) {
	tests := []struct {
		path, field string
		fastAPI     bool
	}{
		{"/v1/calls?limit=101", "limit", false},
		{"/v1/calls?limit=0", "limit", false},
		{"/v1/calls?offset=-1", "offset", false},
		{"/v1/calls?status=ringing", "status", false},
		{"/v1/calls?direction=sideways", "direction", false},
		{"/v1/webhooks/deliveries?hours=169", "hours", false},
		{"/v1/webhooks/deliveries?limit=abc", "limit", false},
		{"/v1/calls?limit=101", "limit", true},
	}
	documented, fastAPI := restServer(t, Options{}), restServer(t, Options{Quirks: Quirks{FastAPIErrors: true}})
	for _, tt := range tests {
		s := documented
		if tt.fastAPI {
			s = fastAPI
		}
		resp, body := apiGet(t, s, tt.path)
		if resp.StatusCode != http.StatusUnprocessableEntity {
			t.Errorf("%s: %d, want 422", tt.path, resp.StatusCode)
			continue
		}
		if tt.fastAPI {
			d := decode[struct {
				Detail []struct {
					Loc []string `json:"loc"`
				} `json:"detail"`
			}](t, body)
			if len(d.Detail) != 1 || !slices.Equal(d.Detail[0].Loc, []string{"query", tt.field}) {
				t.Errorf("%s: %s", tt.path, body)
			}
			continue
		}
		e := decode[errorEnvelope](t, body)
		if e.Error.Code != "VALIDATION_ERROR" || len(e.Error.Details) != 1 || e.Error.Details[0].Field != tt.field {
			t.Errorf("%s: %s", tt.path, body)
		}
	}
}

func TestGetCallAndTranscript(t *testing.T) {
	acct := Generate(AccountOptions{Seed: 9, Calls: 20})
	call := finishedCall(t, acct, 5)
	s := restServer(t, Options{Account: acct})
	rows := restServer(t, Options{Account: Generate(AccountOptions{Seed: 9, Calls: 20}), Quirks: Quirks{TranscriptRows: true}})

	_, body := apiGet(t, s, "/v1/calls/"+call.ID)
	d := decode[callDetail](t, body)
	// A row per caller turn, holding the agent turn right after it; agent
	// turns that answer no caller turn get a row of their own.
	wantRows := 0
	for i, turn := range call.Turns {
		if turn.Role == "user" || i == 0 || call.Turns[i-1].Role != "user" {
			wantRows++
		}
	}
	if d.ID != call.ID || *d.DurationSeconds != call.DurationSeconds() || len(d.Transcripts) != wantRows {
		t.Errorf("detail: id %s, %v s, %d rows; want %s, %d s, %d rows",
			d.ID, *d.DurationSeconds, len(d.Transcripts), call.ID, call.DurationSeconds(), wantRows)
	}

	_, body = apiGet(t, s, "/v1/calls/"+call.ID+"/transcript")
	tr := decode[callTranscript](t, body)
	if tr.CallID != call.ID || tr.Status != "completed" || len(tr.Transcript) != len(call.Turns) || tr.Transcript[0] != turnOf(call.Turns[0]) {
		t.Errorf("transcript %s", body)
	}

	_, body = apiGet(t, rows, "/v1/calls/"+call.ID+"/transcript")
	if r := decode[transcriptRows](t, body); len(r.Data) != wantRows || r.Data[0].Response == nil || r.Data[1].Confidence == nil {
		t.Errorf("row transcript %s", body)
	}

	for _, path := range []string{"/v1/calls/call_nope", "/v1/calls/call_nope/transcript", "/v1/calls/call_nope/transcript/stream"} {
		resp, body := apiGet(t, s, path)
		if e := decode[errorEnvelope](t, body); resp.StatusCode != 404 || e.Error.Code != "CALL_NOT_FOUND" {
			t.Errorf("%s: %d %s", path, resp.StatusCode, body)
		}
	}
}

func TestDeliveriesLog(t *testing.T) {
	ctx := testCtx(t)
	rc := newReceiver(t, time.Now, func(_ http.ResponseWriter, r *http.Request, req request) int {
		if req.N == 1 {
			return 503
		}
		return 0
	})
	defer rc.Close()
	s := restServer(t, Options{TimeScale: 1e-9, Webhooks: []Webhook{{URL: rc.URL(), Secret: testSecret}},
		Quirks: Quirks{DeliveryIDIsWebhookID: true}})
	sms := MessageEvent(Message{ID: "msg_1", AgentID: "agt_1", Channel: "sms", At: time.Now()}, nil, nil)
	for _, ev := range []Event{sms, RawEvent("agent.test", "voice", "", time.Now(), struct{}{})} {
		if _, err := s.Deliver(ev, Misbehavior{}); err != nil {
			t.Fatal(err)
		}
		if err := s.WaitDeliveries(ctx); err != nil {
			t.Fatal(err)
		}
	}
	_, body := apiGet(t, s, "/v1/webhooks/deliveries?limit=1")
	page := decode[struct {
		Items  []map[string]any `json:"items"`
		Total  int              `json:"total"`
		Offset int              `json:"offset"`
		Limit  int              `json:"limit"`
	}](t, body)
	if page.Total != 2 || page.Limit != 1 || page.Offset != 0 || len(page.Items) != 1 || len(page.Items[0]) != 12 {
		t.Fatalf("page %s", body)
	}
	_, body = apiGet(t, s, "/v1/webhooks/deliveries")
	items := decode[deliveryPage](t, body).Items
	recs := s.Deliveries()
	first := items[1] // newest first: the sms was delivered first
	if first.ID != recs[0].WebhookID || *first.MessageID != "msg_1" || *first.EventType != "agent.message" ||
		first.AttemptCount != 2 || first.Status != "success" || *first.HTTPStatus != 200 || first.NextRetryAt != nil {
		t.Errorf("first delivery %s", body)
	}
	if items[0].MessageID != nil || items[0].AttemptCount != 1 {
		t.Errorf("second delivery %s", body)
	}
}

func TestRateLimit(t *testing.T) {
	clock := NewManualClock(time.Unix(1772471051, 0))
	s := restServer(t, Options{Clock: clock, RateLimit: 2})
	for i := range 2 {
		if resp, body := apiGet(t, s, "/v1/calls"); resp.StatusCode != 200 {
			t.Fatalf("request %d: %d %s", i+1, resp.StatusCode, body)
		}
	}
	if resp, _ := apiGet(t, s, "/v1/webhooks/deliveries"); resp.StatusCode != 200 {
		t.Errorf("another endpoint is limited on its own, got %d", resp.StatusCode)
	}
	resp, body := apiGet(t, s, "/v1/calls")
	if e := decode[errorEnvelope](t, body); resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "60" || e.Error.Code != "RATE_LIMIT_EXCEEDED" {
		t.Errorf("over the limit: %d, Retry-After %q, %s", resp.StatusCode, resp.Header.Get("Retry-After"), body)
	}
	clock.Advance(45 * time.Second)
	if resp, _ := apiGet(t, s, "/v1/calls"); resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "15" {
		t.Errorf("later in the window: %d, Retry-After %q", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	clock.Advance(15 * time.Second)
	if resp, _ := apiGet(t, s, "/v1/calls"); resp.StatusCode != 200 {
		t.Errorf("next window: %d", resp.StatusCode)
	}
}
