package sinktest

import (
	"bytes"
	"runtime"
	"strings"
	"testing"
	"time"
)

// CheckLeaks records the goroutines running now and returns a function that
// fails the test if goroutines started since are still running after a
// grace period (connections and servers wind down asynchronously). Call it
// before creating the component and the returned function after closing it.
func CheckLeaks(t testing.TB) func() {
	t.Helper()
	before := goroutines()
	return func() {
		t.Helper()
		var leaked []string
		deadline := time.Now().Add(10 * time.Second)
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for {
			leaked = leaked[:0]
			for id, stack := range goroutines() {
				if _, ok := before[id]; !ok && !ignorable(stack) {
					leaked = append(leaked, stack)
				}
			}
			if len(leaked) == 0 || time.Now().After(deadline) {
				break
			}
			<-tick.C
		}
		if len(leaked) > 0 {
			t.Errorf("%d goroutines leaked:\n\n%s", len(leaked), strings.Join(leaked, "\n\n"))
		}
	}
}

// goroutines returns the stack of every goroutine but the caller's, by ID.
func goroutines() map[string]string {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	out := map[string]string{}
	for i, g := range bytes.Split(buf, []byte("\n\n")) {
		if i == 0 {
			continue // the caller
		}
		s := string(g)
		id, _, _ := strings.Cut(strings.TrimPrefix(s, "goroutine "), " ")
		out[id] = s
	}
	return out
}

// ignorable says whether a goroutine belongs to the runtime, the testing
// package or the embedded nats-server (whose streams and consumers outlive
// the clients that created them) rather than to the code under test. The
// BigQuery client leaves a timer goroutine behind that nothing can stop; it
// ends by itself within 20 s.
func ignorable(stack string) bool {
	for _, s := range []string{"created by github.com/nats-io/nats-server/", "managedwriter.(*connection).getStream"} {
		if strings.Contains(stack, s) {
			return true
		}
	}
	for _, s := range []string{"testing.(*T).Run", "testing.tRunner", "runtime.goexit0", "os/signal.signal_recv", "runtime.ensureSigM"} {
		if strings.Contains(stack, s) && !strings.Contains(stack, "created by github.com/") {
			return true
		}
	}
	return false
}
