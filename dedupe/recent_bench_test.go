package dedupe

import (
	"fmt"
	"runtime"
	"testing"
	"time"
)

// BenchmarkRecentMemory reports the memory the in-process cache takes per
// remembered event ID, filled to a million.
func BenchmarkRecentMemory(b *testing.B) {
	const n = 1_000_000
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("whd_%016x", i)
	}
	at := time.Now()
	for b.Loop() {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		r := newCache(n)
		for i, id := range ids {
			r.add(id, uint64(i), at)
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/n, "bytes/key")
		runtime.KeepAlive(r)
	}
}

func BenchmarkRecentGet(b *testing.B) {
	r := newCache(100_000)
	at := time.Now()
	for i := range 100_000 {
		r.add(fmt.Sprintf("whd_%016x", i), uint64(i), at)
	}
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			r.get("whd_00000000000003e8", at)
			i++
		}
	})
}
