package dedupe

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/agentphone-connector/connector/journal/journaltest"
)

// clock is a settable time for reservation ages.
type clock struct{ ns atomic.Int64 }

func newClock() *clock {
	c := &clock{}
	c.ns.Store(time.Date(2026, 3, 2, 14, 0, 0, 0, time.UTC).UnixNano())
	return c
}
func (c *clock) Now() time.Time          { return time.Unix(0, c.ns.Load()) }
func (c *clock) Advance(d time.Duration) { c.ns.Add(int64(d)) }

func openKeys(t testing.TB, env *journaltest.Env, now func() time.Time) *Keys {
	t.Helper()
	js, err := jetstream.New(env.Conn)
	if err != nil {
		t.Fatal(err)
	}
	k, err := OpenKeys(t.Context(), js, env.Config.Stream, env.Config.DedupeWindow, 1,
		KeysConfig{ReservationTimeout: 30 * time.Second}, KeysSettings{Logger: journaltest.Discard(), Now: now})
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestReserveCommitRelease(t *testing.T) {
	env := journaltest.Start(t, nil)
	k := openKeys(t, env, newClock().Now)
	ctx := t.Context()
	r, err := k.Reserve(ctx, "call:call_1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := k.Reserve(ctx, "call:call_1"); !errors.Is(err, ErrReserved) {
		t.Fatalf("second reserve while held: %v, want ErrReserved", err)
	}
	if err := k.Release(ctx, r); err != nil {
		t.Fatal(err)
	}
	r, err = k.Reserve(ctx, "call:call_1")
	if err != nil {
		t.Fatalf("reserve after release: %v", err)
	}
	if ok, _ := k.Committed(ctx, "call:call_1"); ok {
		t.Fatal("a reservation reads as committed")
	}
	if err := k.Commit(ctx, r, "whd_1", 7); err != nil {
		t.Fatal(err)
	}
	_, err = k.Reserve(ctx, "call:call_1")
	var c *CommittedError
	if !errors.As(err, &c) || !errors.Is(err, ErrCommitted) || c.EventID != "whd_1" || c.Seq != 7 {
		t.Fatalf("reserve of a committed key: %v", err)
	}
	if ok, err := k.Committed(ctx, "call:call_1"); !ok || err != nil {
		t.Fatalf("committed: %v %v", ok, err)
	}
}

// A reservation whose append never finished (the replica crashed) is taken
// over once it is older than the timeout; the crashed holder can then
// neither commit nor release the new holder's reservation.
func TestStaleReservationIsTakenOver(t *testing.T) {
	env := journaltest.Start(t, nil)
	clk := newClock()
	k := openKeys(t, env, clk.Now)
	ctx := t.Context()
	crashed, err := k.Reserve(ctx, "call:call_1")
	if err != nil {
		t.Fatal(err)
	}
	clk.Advance(29 * time.Second)
	if _, err := k.Reserve(ctx, "call:call_1"); !errors.Is(err, ErrReserved) {
		t.Fatalf("before the timeout: %v, want ErrReserved", err)
	}
	clk.Advance(2 * time.Second)
	next, err := k.Reserve(ctx, "call:call_1")
	if err != nil {
		t.Fatalf("after the timeout: %v", err)
	}
	if err := k.Commit(ctx, crashed, "whd_old", 1); err == nil {
		t.Fatal("the old holder committed a key taken over from it")
	}
	if err := k.Release(ctx, crashed); err != nil {
		t.Fatal(err)
	}
	if err := k.Commit(ctx, next, "call:call_1", 2); err != nil {
		t.Fatalf("the new holder cannot commit: %v", err)
	}
}

func TestConcurrentReservesOneWins(t *testing.T) {
	env := journaltest.Start(t, nil)
	k := openKeys(t, env, nil)
	var wins, busy atomic.Int32
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			_, err := k.Reserve(context.Background(), "call:call_x")
			switch {
			case err == nil:
				wins.Add(1)
			case errors.Is(err, ErrReserved):
				busy.Add(1)
			default:
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if wins.Load() != 1 || busy.Load() != 7 {
		t.Fatalf("%d reservations, %d busy; want 1 and 7", wins.Load(), busy.Load())
	}
}

func TestBucketKey(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"colons become dots", "call:call_1", "call.call_1"},
		{"odd characters are hashed", "call:a b", "(hash)"},
		{"empty tokens are hashed", "call:", "(hash)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := bucketKey(tt.in)
			if tt.want == "(hash)" {
				if len(got) != 7+64 || got[:7] != "sha256." {
					t.Fatalf("%q → %q, want a hash", tt.in, got)
				}
				return
			}
			if got != tt.want {
				t.Fatalf("%q → %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestMark(t *testing.T) {
	env := journaltest.Start(t, nil)
	k := openKeys(t, env, nil)
	if ok, err := k.Committed(t.Context(), "transcript:call_1"); ok || err != nil {
		t.Fatalf("before: %v %v", ok, err)
	}
	for range 2 { // idempotent
		if err := k.Mark(t.Context(), "transcript:call_1"); err != nil {
			t.Fatal(err)
		}
	}
	if ok, err := k.Committed(t.Context(), "transcript:call_1"); !ok || err != nil {
		t.Fatalf("after: %v %v", ok, err)
	}
}
