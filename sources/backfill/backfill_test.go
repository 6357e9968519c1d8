package backfill

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	connector "github.com/agentphone-connector/connector"
	"github.com/agentphone-connector/connector/agentphonetest"
	"github.com/agentphone-connector/connector/sources/agentphoneapi"
)

// Calls whose webhook was journaled are there already; the others are
// added with their turns; a second run adds nothing.
func TestBackfillAddsWhatIsMissing(t *testing.T) {
	r := newRig(t, agentphonetest.Options{Account: account(12)})
	calls := r.finished()
	r.deliverCallEnded(t, calls[:5]...)
	turns := 0
	for _, c := range calls {
		turns += len(c.Turns)
	}
	b := r.backfill(t, testConfig(), nil)
	rep, err := b.Run(t.Context(), Options{Since: 72 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	want := Report{Calls: Counts{Found: len(calls), Added: len(calls) - 5, Present: 5}, Turns: Counts{Found: turns, Added: turns}}
	if rep.Calls != want.Calls || rep.Turns != want.Turns || rep.Resumed || rep.FinishedAt.IsZero() {
		t.Fatalf("first run: %+v\nwant calls %+v turns %+v", rep, want.Calls, want.Turns)
	}
	r.checkOneRecordPerCall(t, calls)

	rep, err = r.backfill(t, testConfig(), nil).Run(t.Context(), Options{Since: 72 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Calls.Added != 0 || rep.Calls.Present != len(calls) || rep.Turns != (Counts{}) || rep.Whole != len(calls) {
		t.Fatalf("second run: %+v, want every call present and no transcript read again", rep)
	}
	var out strings.Builder
	rep.Print(&out)
	if want := fmt.Sprintf("turns: not read for %d calls journaled whole already", len(calls)); !strings.Contains(out.String(), "finished") || !strings.Contains(out.String(), want) {
		t.Errorf("printed report lacks %q:\n%s", want, out.String())
	}
}

// A backfilled call's record comes first; the call's webhook, retried
// later, is answered as a duplicate and not journaled again.
func TestWebhookAfterBackfillIsADuplicate(t *testing.T) {
	r := newRig(t, agentphonetest.Options{Account: account(4)})
	calls := r.finished()
	if _, err := r.backfill(t, testConfig(), nil).Run(t.Context(), Options{Since: 72 * time.Hour}); err != nil {
		t.Fatal(err)
	}
	r.deliverCallEnded(t, calls...)
	for _, d := range r.srv.Deliveries() {
		if d.State != agentphonetest.DeliverySuccess || !strings.Contains(d.Attempts[0].ResponseBody, `"duplicate"`) {
			t.Fatalf("delivery %s: %s %s", d.ID, d.State, d.Attempts[0].ResponseBody)
		}
	}
	r.checkOneRecordPerCall(t, calls)
}

// Calls still live are left to the transcript source, calls that just
// ended to their webhook.
func TestLiveAndSettlingCallsAreLeft(t *testing.T) {
	r := newRig(t, agentphonetest.Options{})
	live, err := r.srv.StartCall(agentphonetest.Call{Turns: []agentphonetest.Turn{{Role: "agent", Content: "Hi"}}})
	if err != nil {
		t.Fatal(err)
	}
	ended, _ := r.srv.StartCall(agentphonetest.Call{Turns: []agentphonetest.Turn{{Role: "agent", Content: "Bye"}}})
	if _, err := r.srv.EndCall(ended.ID, agentphonetest.CallEnd{}); err != nil {
		t.Fatal(err)
	}
	cfg := testConfig()
	cfg.Settle = time.Hour
	rep, err := r.backfill(t, cfg, nil).Run(t.Context(), Options{Since: 72 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Calls != (Counts{Skipped: 2}) || rep.Settling != 2 || len(r.env.Events()) != 0 {
		t.Fatalf("report %+v, %d events journaled", rep, len(r.env.Events()))
	}
	var out strings.Builder
	rep.Print(&out)
	if want := "skipped: 2 calls live or ended within CONNECTOR_BACKFILL_SETTLE"; !strings.Contains(out.String(), want) {
		t.Errorf("printed report lacks %q:\n%s", want, out.String())
	}
	rep, err = r.backfill(t, testConfig(), nil).Run(t.Context(), Options{Since: 72 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Calls != (Counts{Found: 1, Added: 1, Skipped: 1}) {
		t.Fatalf("without settling: %+v", rep.Calls)
	}
	if recs := r.records(t); recs[live.ID] != nil || recs[ended.ID] == nil {
		t.Fatal("the live call was backfilled, or the ended one was not")
	}
}

// Interrupted while waiting out a 429, a run keeps its place; the next run
// resumes there, waits Retry-After when limited again, and the two add up
// to one record per call.
func TestInterruptedRunResumes(t *testing.T) {
	clock := agentphonetest.NewManualClock(time.Now())
	r := newRig(t, agentphonetest.Options{Account: account(12), Clock: clock, RateLimit: 4})
	calls := r.finished()
	ctx, interrupt := context.WithCancel(t.Context())
	first := r.api(t, agentphoneapi.Settings{Sleep: func(ctx context.Context, d time.Duration) error {
		interrupt() // Ctrl-C during the first wait
		return ctx.Err()
	}})
	rep, err := r.backfill(t, testConfig(), first).Run(ctx, Options{Since: 72 * time.Hour})
	if !errors.Is(err, context.Canceled) || !rep.FinishedAt.IsZero() || rep.Calls.Found == 0 || rep.Calls.Found == len(calls) {
		t.Fatalf("interrupted run: %+v, %v", rep.Calls, err)
	}

	var mu sync.Mutex
	var waits []time.Duration
	second := r.api(t, agentphoneapi.Settings{Sleep: func(ctx context.Context, d time.Duration) error {
		mu.Lock()
		waits = append(waits, d)
		mu.Unlock()
		clock.Advance(d) // the server's rate window moves on
		return ctx.Err()
	}})
	rep, err = r.backfill(t, testConfig(), second).Run(t.Context(), Options{Since: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Resumed || rep.Calls.Found != len(calls) || rep.Calls.Added != len(calls) || rep.FinishedAt.IsZero() {
		t.Fatalf("resumed run: %+v", rep)
	}
	if len(waits) == 0 {
		t.Fatal("the resumed run was never rate limited")
	}
	for _, d := range waits {
		if d != time.Minute {
			t.Fatalf("waited %v, want the server's Retry-After (60s) each time", waits)
		}
	}
	r.checkOneRecordPerCall(t, calls)
}

// Another process's run holds the checkpoint: a second run is refused.
func TestConcurrentRunIsBusy(t *testing.T) {
	r := newRig(t, agentphonetest.Options{})
	holder := r.backfill(t, testConfig(), nil)
	if _, err := holder.begin(t.Context(), time.Hour, false); err != nil {
		t.Fatal(err)
	}
	if _, err := r.backfill(t, testConfig(), nil).Run(t.Context(), Options{Since: time.Hour}); !errors.Is(err, ErrBusy) {
		t.Fatalf("second run: %v, want ErrBusy", err)
	}
}

// A replica restarted under its name takes its interrupted run back at
// once; another replica is refused until the run's lease lapses.
func TestRestartedReplicaResumesItsRun(t *testing.T) {
	r := newRig(t, agentphonetest.Options{})
	died := r.backfillAs(t, testConfig(), nil, "replica-1")
	if _, err := died.begin(t.Context(), time.Hour, false); err != nil { // and never releases: killed
		t.Fatal(err)
	}
	if _, err := r.backfillAs(t, testConfig(), nil, "replica-2").Run(t.Context(), Options{Since: time.Hour}); !errors.Is(err, ErrBusy) {
		t.Fatalf("another replica: %v, want ErrBusy", err)
	}
	rep, err := r.backfillAs(t, testConfig(), nil, "replica-1").Run(t.Context(), Options{Since: time.Hour})
	if err != nil || !rep.Resumed {
		t.Fatalf("restarted replica: %+v, %v; want the run resumed", rep, err)
	}
}

// Deliveries AgentPhone gave up on become records of the gap, once.
func TestFailedDeliveriesAreRecorded(t *testing.T) {
	r := newRig(t, agentphonetest.Options{})
	now := time.Now()
	for i, id := range []string{"msg_1", "msg_2"} {
		ev := agentphonetest.MessageEvent(agentphonetest.Message{ID: id, Channel: "sms", Direction: "inbound", At: now.Add(time.Duration(i) * time.Second)}, nil, nil)
		if _, err := r.srv.Deliver(ev, agentphonetest.Misbehavior{WrongSecret: true}); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.srv.WaitDeliveries(t.Context()); err != nil {
		t.Fatal(err)
	}
	for run, want := range []Counts{{Found: 2, Added: 2}, {Found: 2, Present: 2}} {
		rep, err := r.backfill(t, testConfig(), nil).Run(t.Context(), Options{Since: time.Hour})
		if err != nil || rep.Deliveries != want {
			t.Fatalf("run %d: %+v %v, want %+v", run+1, rep.Deliveries, err, want)
		}
	}
	var gaps []string
	for _, st := range r.env.Events() {
		if st.Event.Kind().Name == connector.EventDeliveryFailed {
			gaps = append(gaps, string(st.Event.Data))
		}
	}
	if len(gaps) != 2 || !strings.Contains(gaps[0]+gaps[1], `"message_id":"msg_1"`) || !strings.Contains(gaps[0], `"http_status":401`) {
		t.Fatalf("gap records %v", gaps)
	}
}

func TestCloseWithoutStart(t *testing.T) {
	r := newRig(t, agentphonetest.Options{})
	r.backfill(t, testConfig(), nil) // the checkpoint bucket lives on in the server, with goroutines of its own
	check := noLeaks(t)
	b := r.backfill(t, testConfig(), nil)
	if err := b.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	b.Start() // after Close: does nothing
	check()
}

func TestStartThenClose(t *testing.T) {
	r := newRig(t, agentphonetest.Options{})
	r.backfill(t, testConfig(), nil) // the checkpoint bucket lives on in the server, with goroutines of its own
	check := noLeaks(t)
	cfg := testConfig()
	cfg.Interval = time.Hour
	b := r.backfill(t, cfg, nil)
	b.Start()
	if err := b.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	check()
}
