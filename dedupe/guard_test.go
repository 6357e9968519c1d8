package dedupe

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	connector "github.com/agentphone-connector/connector"
)

// journal is an in-memory stand-in for the journal with its Nats-Msg-Id
// semantics: an ID appended once is a duplicate afterwards. Appends can be
// held (to line up concurrent callers) and made to fail.
type journal struct {
	mu      sync.Mutex
	ids     map[string]uint64
	calls   atomic.Int32
	entered chan struct{} // when set, receives one value per append
	hold    chan struct{} // when set, appends wait for it to close
	fail    error
}

func (j *journal) Append(ctx context.Context, e *connector.Event) (connector.Appended, error) {
	j.calls.Add(1)
	j.mu.Lock()
	fail := j.fail // decided on entry, so a test can fix the journal for the next call
	j.mu.Unlock()
	if j.entered != nil {
		j.entered <- struct{}{}
	}
	if j.hold != nil {
		<-j.hold
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	if fail != nil {
		return connector.Appended{}, fail
	}
	if seq, ok := j.ids[e.ID]; ok {
		return connector.Appended{Seq: seq, Duplicate: true}, nil
	}
	if j.ids == nil {
		j.ids = map[string]uint64{}
	}
	j.ids[e.ID] = uint64(len(j.ids) + 1)
	return connector.Appended{Seq: j.ids[e.ID]}, nil
}

func newGuard(t *testing.T, j connector.Appender, cache int, now func() time.Time) (*Guard, *prometheus.Registry) {
	t.Helper()
	reg := prometheus.NewRegistry()
	g, err := New(j, time.Hour, Config{CacheSize: cache}, Settings{Registerer: reg, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	return g, reg
}

func event(id string) *connector.Event {
	return &connector.Event{ID: id, Source: "test", Type: "ai.agentphone.agent.message", Status: connector.StatusOK}
}

func TestConcurrentSameIDMakesOneAppend(t *testing.T) {
	j := &journal{hold: make(chan struct{}), entered: make(chan struct{}, 100)}
	g, _ := newGuard(t, j, 0, nil)
	const n = 16
	waits := make(chan string, n)
	g.onWait = func(id string) { waits <- id }
	results := make(chan connector.Appended, n)
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := g.Append(context.Background(), event("a"))
			if err != nil {
				t.Error(err)
			}
			results <- res
		}()
	}
	<-j.entered
	for range n - 1 {
		<-waits
	}
	close(j.hold)
	wg.Wait()
	close(results)
	fresh := 0
	for r := range results {
		if !r.Duplicate {
			fresh++
		}
		if r.Seq != 1 {
			t.Errorf("seq %d", r.Seq)
		}
	}
	if fresh != 1 || j.calls.Load() != 1 {
		t.Fatalf("%d fresh results, %d appends; want 1 and 1", fresh, j.calls.Load())
	}
}

// A failed append releases the reservation: a waiter tries itself and a
// later retry goes through (the bug of recording the key before the append).
func TestFailedAppendReleasesTheKey(t *testing.T) {
	boom := errors.New("journal down")
	j := &journal{hold: make(chan struct{}), fail: boom, entered: make(chan struct{}, 10)}
	g, _ := newGuard(t, j, 10, nil)
	waits := make(chan string, 1)
	g.onWait = func(id string) { waits <- id }
	first := make(chan error, 1)
	go func() { _, err := g.Append(context.Background(), event("a")); first <- err }()
	<-j.entered
	second := make(chan connector.Appended, 1)
	go func() {
		res, err := g.Append(context.Background(), event("a"))
		if err != nil {
			t.Error(err)
		}
		second <- res
	}()
	<-waits
	j.mu.Lock()
	j.fail = nil // the journal comes back; the first attempt still fails
	j.mu.Unlock()
	close(j.hold)
	if err := <-first; !errors.Is(err, boom) {
		t.Fatalf("first attempt: %v", err)
	}
	if res := <-second; res.Duplicate {
		t.Fatal("the waiter was told duplicate although nothing was journaled")
	}
	if j.ids["a"] != 1 {
		t.Fatal("the retry did not journal the event")
	}
}

func TestCacheAnswersWithinTheWindowOnly(t *testing.T) {
	now := time.Unix(1000, 0)
	j := &journal{}
	g, reg := newGuard(t, j, 10, func() time.Time { return now })
	ctx := context.Background()
	if res, _ := g.Append(ctx, event("a")); res.Duplicate {
		t.Fatal("first append reported duplicate")
	}
	res, _ := g.Append(ctx, event("a"))
	if !res.Duplicate || res.Seq != 1 || j.calls.Load() != 1 {
		t.Fatalf("repeat: %+v after %d appends; want a cached duplicate", res, j.calls.Load())
	}
	now = now.Add(time.Hour + time.Second)
	if g.Append(ctx, event("a")); j.calls.Load() != 2 {
		t.Fatal("an ID older than the window was answered from the cache")
	}
	if got := testutil.ToFloat64(g.events.WithLabelValues("test", "ai.agentphone.agent.message", "ok", "duplicate")); got != 2 {
		t.Fatalf("duplicates counted %v, want 2", got)
	}
	if n, _ := testutil.GatherAndCount(reg, "connector_events_total"); n != 2 {
		t.Fatalf("%d series", n)
	}
}

// A duplicate the journal reports was committed at a time the guard does not
// know (by another replica, or before a restart): it is not cached, or the
// cache could go on answering "duplicate" after the journal's window has let
// the ID go, and the provider's delivery would then be lost.
func TestJournalsDuplicateIsNotCached(t *testing.T) {
	now := time.Unix(1000, 0)
	j := &journal{ids: map[string]uint64{"a": 7}}
	g, _ := newGuard(t, j, 10, func() time.Time { return now })
	for i := range 2 {
		res, err := g.Append(context.Background(), event("a"))
		if err != nil || !res.Duplicate || res.Seq != 7 {
			t.Fatalf("append %d: %+v %v, want the journal's duplicate of seq 7", i, res, err)
		}
	}
	if n := j.calls.Load(); n != 2 {
		t.Fatalf("%d journal appends for two deliveries: the journal's duplicate was answered from the cache", n)
	}
}

func TestCacheEvictsOldest(t *testing.T) {
	r := newCache(2 * cacheShards) // two per shard
	at := time.Unix(0, 0)
	var same []string // IDs that land in one shard
	for i := 0; len(same) < 3; i++ {
		id := fmt.Sprintf("whd_%d", i)
		if r.shard(r.key(id)) == r.shard(r.key("whd_0")) {
			same = append(same, id)
		}
	}
	for i, id := range same {
		r.add(id, uint64(i+1), at)
	}
	if _, ok := r.get(same[0], at); ok {
		t.Fatal("oldest kept past capacity")
	}
	for i, id := range same[1:] {
		if got, ok := r.get(id, at); !ok || got != uint64(i+2) {
			t.Fatalf("%s: %d %v", id, got, ok)
		}
	}
	for i := range 10 * cacheShards {
		r.add(fmt.Sprintf("other_%d", i), 0, at)
	}
	n := 0
	for i := range r.shards {
		n += r.shards[i].set.Len()
	}
	if n > 2*cacheShards {
		t.Fatalf("holds %d IDs, capacity %d", n, 2*cacheShards)
	}
	var none *cache = newCache(0)
	none.add("a", 1, at)
	if _, ok := none.get("a", at); ok {
		t.Fatal("a disabled cache remembered")
	}
}

func TestCancelledWaiterReturns(t *testing.T) {
	j := &journal{hold: make(chan struct{}), entered: make(chan struct{}, 1)}
	g, _ := newGuard(t, j, 10, nil)
	done := make(chan struct{})
	go func() { g.Append(context.Background(), event("a")); close(done) }()
	<-j.entered
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := g.Append(ctx, event("a")); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled waiter: %v", err)
	}
	close(j.hold)
	<-done
}
