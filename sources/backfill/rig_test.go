package backfill

import (
	"encoding/json"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/goleak"

	connector "github.com/agentphone-connector/connector"
	"github.com/agentphone-connector/connector/agentphonetest"
	"github.com/agentphone-connector/connector/dedupe"
	"github.com/agentphone-connector/connector/journal/journaltest"
	"github.com/agentphone-connector/connector/sources/agentphoneapi"
	"github.com/agentphone-connector/connector/sources/webhook"
)

const testSecret = "whsec_test_5f2b8c1e9a7d4"

// rig is a real journal with the natural-key bucket, and an AgentPhone
// test server whose webhooks go to a real webhook handler.
type rig struct {
	env   *journaltest.Env
	js    jetstream.JetStream
	marks *dedupe.Marks
	hook  *httptest.Server // the webhook handler, journaling through its own guard
	srv   *agentphonetest.Server
}

func newRig(t *testing.T, o agentphonetest.Options) *rig {
	t.Helper()
	r := &rig{env: journaltest.Start(t, nil)}
	var err error
	if r.js, err = jetstream.New(r.env.Conn); err != nil {
		t.Fatal(err)
	}
	r.marks, err = dedupe.OpenMarks(t.Context(), r.js, r.env.Config.Stream, r.env.Config.DedupeWindow, 1)
	if err != nil {
		t.Fatal(err)
	}
	cfg := webhook.Config{Secrets: []webhook.Secret{testSecret}, MaxBodyBytes: 1 << 20, Tolerance: 5 * time.Minute,
		ReadTimeout: 30 * time.Second, IdleTimeout: time.Minute, RetryAfter: time.Second}
	r.hook = httptest.NewServer(webhook.NewHandler(cfg, r.chain(t), webhook.Settings{Logger: journaltest.Discard()}))
	t.Cleanup(r.hook.Close)
	o.Webhooks = []agentphonetest.Webhook{{URL: r.hook.URL + webhook.PathPrefix, Secret: testSecret}}
	r.srv = agentphonetest.Start(t, o)
	return r
}

// chain is what serve gives every source: a guard of its own (as another
// process would have) in front of the journal.
func (r *rig) chain(t *testing.T) connector.Appender {
	t.Helper()
	g, err := dedupe.New(r.env.Journal, r.env.Config.DedupeWindow,
		dedupe.Config{CacheSize: 1000}, dedupe.Settings{})
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func (r *rig) api(t *testing.T, set agentphoneapi.Settings) *agentphoneapi.Client {
	t.Helper()
	api, err := agentphoneapi.New(agentphoneapi.Config{URL: r.srv.URL(), Key: agentphoneapi.Key(r.srv.APIKey()), Timeout: 5 * time.Second, MaxRetries: 3}, set)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(api.CloseIdleConnections)
	return api
}

func testConfig() Config { return Config{Since: 72 * time.Hour, PageSize: 5} }

func (r *rig) backfill(t *testing.T, cfg Config, api *agentphoneapi.Client) *Backfill {
	t.Helper()
	return r.backfillAs(t, cfg, api, "")
}

// backfillAs is backfill holding its lease under the name holder.
func (r *rig) backfillAs(t *testing.T, cfg Config, api *agentphoneapi.Client, holder string) *Backfill {
	t.Helper()
	if api == nil {
		api = r.api(t, agentphoneapi.Settings{})
	}
	b, err := New(t.Context(), cfg, Deps{API: api, Journal: r.chain(t), Index: r.env.Journal, Marks: r.marks, JetStream: r.js, Stream: r.env.Config.Stream, Replicas: 1},
		Settings{Logger: journaltest.Discard(), Holder: holder})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// deliverCallEnded delivers the calls' agent.call_ended webhooks and waits
// until every delivery is done.
func (r *rig) deliverCallEnded(t *testing.T, calls ...agentphonetest.Call) {
	t.Helper()
	for _, c := range calls {
		if _, err := r.srv.Deliver(agentphonetest.CallEndedEvent(c), agentphonetest.Misbehavior{}); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.srv.WaitDeliveries(t.Context()); err != nil {
		t.Fatal(err)
	}
}

// record is what the journal holds of one call.
type record struct {
	callEnded []*connector.Event
	turns     map[int]string // content by position
}

// records reads the journal by call, failing the test when an event ID is
// there twice or a turn position holds two events.
func (r *rig) records(t *testing.T) map[string]*record {
	t.Helper()
	out := map[string]*record{}
	ids := map[string]bool{}
	for _, st := range r.env.Events() {
		e := st.Event
		if ids[e.ID] {
			t.Fatalf("event %s journaled twice", e.ID)
		}
		ids[e.ID] = true
		if e.CallID == "" {
			continue
		}
		rec := out[e.CallID]
		if rec == nil {
			rec = &record{turns: map[int]string{}}
			out[e.CallID] = rec
		}
		switch e.Kind().Name {
		case connector.EventCallEnded:
			rec.callEnded = append(rec.callEnded, e)
		case connector.EventTranscriptTurn:
			var tt connector.TranscriptTurn
			if err := json.Unmarshal(e.Data, &tt); err != nil {
				t.Fatal(err)
			}
			if _, dup := rec.turns[tt.Position]; dup {
				t.Fatalf("call %s: turn %d journaled twice", e.CallID, tt.Position)
			}
			rec.turns[tt.Position] = tt.Content
		}
	}
	return out
}

// checkOneRecordPerCall fails unless the journal holds each call once and
// each of its turns once, as the server has them.
func (r *rig) checkOneRecordPerCall(t *testing.T, calls []agentphonetest.Call) {
	t.Helper()
	recs := r.records(t)
	for _, c := range calls {
		rec := recs[c.ID]
		if rec == nil {
			t.Errorf("call %s: nothing journaled", c.ID)
			continue
		}
		if len(rec.callEnded) != 1 {
			t.Errorf("call %s: %d agent.call_ended records, want 1", c.ID, len(rec.callEnded))
		}
		if len(rec.turns) != len(c.Turns) {
			t.Errorf("call %s: %d turns journaled, the call has %d", c.ID, len(rec.turns), len(c.Turns))
		}
		for i, turn := range c.Turns {
			if rec.turns[i] != turn.Content {
				t.Errorf("call %s turn %d: %q, want %q", c.ID, i, rec.turns[i], turn.Content)
			}
		}
	}
}

// finished returns the completed and failed calls of the server.
func (r *rig) finished() []agentphonetest.Call {
	var out []agentphonetest.Call
	for _, c := range r.srv.Calls() {
		if c.Status != agentphonetest.StatusInProgress {
			out = append(out, c)
		}
	}
	return out
}

// account is a generated day of calls within the last 72 hours.
func account(calls int) *agentphonetest.Account {
	return agentphonetest.Generate(agentphonetest.AccountOptions{Seed: 11, Calls: calls, Day: time.Now().UTC().AddDate(0, 0, -1)})
}

// noLeaks returns a check, to call after closing everything the test
// started, that fails the test when goroutines started since noLeaks are
// still running (after a grace period).
func noLeaks(t *testing.T) func() {
	ignore := goleak.IgnoreCurrent()
	return func() {
		t.Helper()
		goleak.VerifyNone(t, ignore)
	}
}
