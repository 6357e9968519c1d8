package journal_test

import (
	"context"
	"flag"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	connector "github.com/agentphone-connector/connector"
	"github.com/agentphone-connector/connector/journal/journaltest"
)

var journalSizes = flag.String("journal-events", "0,100000",
	"comma-separated journal sizes (events, each from one of 100,000 agents, a call_ended in five a new call) the scale benchmarks run at")

// BenchmarkAppendAtScale appends events to a journal already holding the
// given number of events, spread over 100,000 agents and conversations with
// a call_ended of a new call in every five: the cost per event must not grow
// with the journal. Run at production size with
//
//	go test ./journal -run '^$' -bench AtScale -benchtime 20000x -args -journal-events=0,1000000
func BenchmarkAppendAtScale(b *testing.B) {
	for _, n := range sizes(b) {
		b.Run(fmt.Sprintf("journal=%d", n), func(b *testing.B) {
			env := filled(b, n)
			var next atomic.Int64
			next.Store(int64(n))
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := env.Journal.Append(context.Background(), scaleEvent(int(next.Add(1)))); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}

// BenchmarkHoldsAtScale looks calls up as backfill does, in a journal of
// the given size (an empty one is left out): in turn one the journal holds
// and one it does not.
func BenchmarkHoldsAtScale(b *testing.B) {
	for _, n := range sizes(b) {
		if n < 10 {
			continue
		}
		b.Run(fmt.Sprintf("journal=%d", n), func(b *testing.B) {
			env := filled(b, n)
			i := 0
			for b.Loop() {
				i++
				call := (i * 5) % n // journaled
				if i%2 == 1 {
					call += n // not
				}
				if _, err := env.Journal.Holds(context.Background(), scaleEvent(call-call%5)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func sizes(b *testing.B) []int {
	var out []int
	for _, s := range strings.Split(*journalSizes, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil {
			b.Fatalf("-journal-events: %v", err)
		}
		out = append(out, n)
	}
	return out
}

// filled returns a journal on a file store holding n events.
func filled(b *testing.B, n int) *journaltest.Env {
	b.Helper()
	cfg := journaltest.Config()
	cfg.AppendTimeout = 30 * time.Second
	env := journaltest.Start(b, &cfg)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range 32 {
		wg.Go(func() {
			for i := int(next.Add(1)) - 1; i < n; i = int(next.Add(1)) - 1 {
				if _, err := env.Journal.Append(context.Background(), scaleEvent(i)); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	return env
}

// scaleEvent is event i of traffic from 100,000 agents: every fifth a
// call_ended of call i, the others an SMS of one of 100,000 conversations.
func scaleEvent(i int) *connector.Event {
	agent := fmt.Sprintf("agt_%d", i*7919%100_000)
	e := &connector.Event{ID: fmt.Sprintf("whd_%d", i), Source: "bench", AgentID: agent, Time: time.Unix(1772471051, 0),
		Status: connector.StatusOK, Raw: scaleBody}
	if i%5 == 0 {
		e.Type, e.Channel, e.CallID = connector.TypePrefix+connector.EventCallEnded, "voice", fmt.Sprintf("call_%d", i)
		e.Subject = e.CallID
		return e
	}
	e.Type, e.Channel, e.ConversationID = connector.TypePrefix+connector.EventMessage, "sms", fmt.Sprintf("conv_%d", i%100_000)
	e.Subject = e.ConversationID
	return e
}

var scaleBody = []byte(`{"event":"agent.message","channel":"sms","data":{"message":"` + strings.Repeat("x", 800) + `"}}`)
