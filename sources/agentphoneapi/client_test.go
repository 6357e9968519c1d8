package agentphoneapi

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	connector "github.com/agentphone-connector/connector"
	"github.com/agentphone-connector/connector/agentphonetest"
)

func testServer(t *testing.T, o agentphonetest.Options) *agentphonetest.Server {
	t.Helper()
	return agentphonetest.Start(t, o)
}

func testClient(t *testing.T, url, key string, set Settings) *Client {
	t.Helper()
	c, err := New(Config{URL: url, Key: Key(key), Timeout: 5 * time.Second, MaxRetries: 3}, set)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestListCallsPages(t *testing.T) {
	s := testServer(t, agentphonetest.Options{Account: agentphonetest.Generate(agentphonetest.AccountOptions{Seed: 7, Calls: 25})})
	for range 2 {
		if _, err := s.StartCall(agentphonetest.Call{}); err != nil {
			t.Fatal(err)
		}
	}
	c := testClient(t, s.URL(), s.APIKey(), Settings{})
	tests := []struct {
		name   string
		status string
		want   int
	}{
		{"every call", "", 27},
		{"live calls", "in-progress", 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			seen := map[string]bool{}
			for offset := 0; ; {
				p, err := c.ListCalls(t.Context(), ListCalls{Status: tt.status, Limit: 10, Offset: offset})
				if err != nil {
					t.Fatal(err)
				}
				for _, call := range p.Calls {
					if seen[call.ID] || call.StartedAt.IsZero() || len(call.Raw) == 0 {
						t.Fatalf("call %+v repeated or incomplete", call)
					}
					if tt.status != "" && call.Status != tt.status {
						t.Fatalf("status %q in a list of %q", call.Status, tt.status)
					}
					seen[call.ID] = true
				}
				if offset += len(p.Calls); !p.HasMore {
					break
				}
			}
			if len(seen) != tt.want {
				t.Fatalf("%d calls, want %d", len(seen), tt.want)
			}
		})
	}
}

// Both transcript shapes come back as entries, in order (SPEC.md Q9).
func TestTranscriptShapes(t *testing.T) {
	acct := agentphonetest.Generate(agentphonetest.AccountOptions{Seed: 3, Calls: 10})
	var call agentphonetest.Call
	for _, c := range acct.Calls {
		if len(c.Turns) >= 4 {
			call = c
			break
		}
	}
	tests := []struct {
		name   string
		quirks agentphonetest.Quirks
		first  string // a field of the first entry
	}{
		{"turns", agentphonetest.Quirks{}, `"role":`},
		{"rows", agentphonetest.Quirks{TranscriptRows: true}, `"transcript":`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := testServer(t, agentphonetest.Options{Account: acct, Quirks: tt.quirks})
			tr, err := testClient(t, s.URL(), s.APIKey(), Settings{}).Transcript(t.Context(), call.ID)
			if err != nil {
				t.Fatal(err)
			}
			if tr.CallID != call.ID || len(tr.Entries) == 0 || len(tr.Entries) > len(call.Turns) {
				t.Fatalf("transcript %s with %d entries for %d turns", tr.CallID, len(tr.Entries), len(call.Turns))
			}
			if !strings.Contains(string(tr.Entries[0]), tt.first) {
				t.Fatalf("first entry %s", tr.Entries[0])
			}
		})
	}
}

func TestErrors(t *testing.T) {
	acct := agentphonetest.Generate(agentphonetest.AccountOptions{Seed: 1, Calls: 1})
	tests := []struct {
		name      string
		quirks    agentphonetest.Quirks
		key       string
		call      func(c *Client) error
		sentinel  error
		message   string
		permanent bool
	}{
		{"wrong key", agentphonetest.Quirks{}, "sk_wrong", func(c *Client) error { _, err := c.ListCalls(context.Background(), ListCalls{}); return err },
			ErrUnauthorized, "Invalid or missing API key", true},
		{"unknown call", agentphonetest.Quirks{}, "", func(c *Client) error { _, err := c.Transcript(context.Background(), "call_nope"); return err },
			ErrNotFound, "Call not found", true},
		{"FastAPI detail string", agentphonetest.Quirks{FastAPIErrors: true}, "", func(c *Client) error { _, err := c.Transcript(context.Background(), "call_nope"); return err },
			ErrNotFound, "Call not found", true},
		{"FastAPI validation details", agentphonetest.Quirks{FastAPIErrors: true}, "", func(c *Client) error {
			_, err := c.ListCalls(context.Background(), ListCalls{Limit: 500})
			return err
		}, nil, "query.limit: value must be between 1 and 100", true},
		{"stream of an unknown call", agentphonetest.Quirks{}, "", func(c *Client) error {
			_, err := c.OpenTranscriptStream(context.Background(), "call_nope")
			return err
		}, ErrNotFound, "Call not found", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := testServer(t, agentphonetest.Options{Account: acct, Quirks: tt.quirks})
			key := tt.key
			if key == "" {
				key = s.APIKey()
			}
			err := tt.call(testClient(t, s.URL(), key, Settings{}))
			var apiErr *Error
			if !errors.As(err, &apiErr) || apiErr.Message != tt.message {
				t.Fatalf("error %v, want message %q", err, tt.message)
			}
			if tt.sentinel != nil && !errors.Is(err, tt.sentinel) {
				t.Errorf("%v is not %v", err, tt.sentinel)
			}
			if connector.IsPermanent(err) != tt.permanent {
				t.Errorf("permanent = %v", connector.IsPermanent(err))
			}
		})
	}
}

// A 429 waits exactly what Retry-After says, on the clock the server
// counts its window with, then goes through.
func TestRateLimitWaitsRetryAfter(t *testing.T) {
	clock := agentphonetest.NewManualClock(time.Date(2026, 3, 2, 14, 0, 0, 0, time.UTC))
	s := testServer(t, agentphonetest.Options{Clock: clock, RateLimit: 1})
	var waits []time.Duration
	sleep := func(ctx context.Context, d time.Duration) error {
		waits = append(waits, d)
		clock.Advance(d)
		return ctx.Err()
	}
	c := testClient(t, s.URL(), s.APIKey(), Settings{Sleep: sleep})
	clock.Advance(20 * time.Second)
	for i := range 2 {
		if _, err := c.ListCalls(t.Context(), ListCalls{}); err != nil {
			t.Fatalf("request %d: %v", i+1, err)
		}
	}
	if len(waits) != 1 || waits[0] != time.Minute {
		t.Fatalf("waited %v, want one wait of Retry-After (60s)", waits)
	}
	c.retries = 0
	if _, err := c.ListCalls(t.Context(), ListCalls{}); !errors.Is(err, ErrRateLimited) || connector.IsPermanent(err) {
		t.Fatalf("out of retries: %v, want a rate-limit error that may be retried", err)
	}
}

// 5xx answers are retried with backoff; the request then succeeds.
func TestRetriesServerErrors(t *testing.T) {
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) <= 2 {
			http.Error(w, `{"detail":"upstream"}`, http.StatusBadGateway)
			return
		}
		w.Write([]byte(`{"data":[],"hasMore":false,"total":0}`))
	}))
	defer srv.Close()
	var waits []time.Duration
	c := testClient(t, srv.URL, "sk", Settings{Backoff: connector.Backoff{Min: time.Second, Max: 4 * time.Second},
		Sleep: func(_ context.Context, d time.Duration) error { waits = append(waits, d); return nil }})
	if _, err := c.ListCalls(t.Context(), ListCalls{}); err != nil {
		t.Fatal(err)
	}
	if len(waits) != 2 || waits[0] < 500*time.Millisecond || waits[0] > time.Second || waits[1] < time.Second || waits[1] > 2*time.Second {
		t.Fatalf("waits %v, want about 1s then 2s", waits)
	}
}
