package main

import (
	"fmt"
	"io"
	"text/tabwriter"
	"time"
)

// report prints the median of each figure of one cell and the ratios to the
// baselines.
func report(w io.Writer, r cellResult, o options) {
	settled := ""
	if r.cell.prefill > 0 {
		settled = fmt.Sprintf(", load from %v after start-up", o.settle)
	}
	fmt.Fprintf(w, "%s; %d rounds, median%s\n", r.cell, o.rounds, settled)
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "server\treq/s (C=%d)\tp50 ms\tp99 ms\tp50 ms at %d/s\tp99 ms at %d/s\tCPU µs/req\tpeak RSS MiB\tstart-up s\twrong answers\n", o.conc, o.rate, o.rate)
	for _, n := range targets {
		fmt.Fprintf(tw, "%s\t%.0f\t%.2f\t%.2f\t%.2f\t%.2f\t%.0f\t%.0f\t%.2f\t%.0f\n", n,
			r.throughput(n),
			r.median(n, func(m measurement) float64 { return ms(m.closed.pct(.50)) }),
			r.median(n, func(m measurement) float64 { return ms(m.closed.pct(.99)) }),
			r.median(n, func(m measurement) float64 { return ms(m.open.pct(.50)) }),
			r.p99AtRate(n),
			r.median(n, func(m measurement) float64 { return float64(m.cpuPerReq) / float64(time.Microsecond) }),
			r.median(n, func(m measurement) float64 { return float64(m.peakRSS) / (1 << 20) }),
			r.median(n, func(m measurement) float64 { return m.startup.Seconds() }),
			r.median(n, func(m measurement) float64 { return float64(m.closed.wrong + m.open.wrong) }))
	}
	tw.Flush()
	fmt.Fprintf(w, "connector / verify+publish throughput: %.2fx   connector / verify: %.2fx\n",
		r.throughput("connector")/r.throughput("verify+publish"), r.throughput("connector")/r.throughput("verify"))
	fmt.Fprintf(w, "p99 at %d/s: connector %.2f ms, verify+publish %.2f ms (difference %+.2f ms)\n\n",
		o.rate, r.p99AtRate("connector"), r.p99AtRate("verify+publish"), r.p99AtRate("connector")-r.p99AtRate("verify+publish"))
}

// summarize prints one line per cell against the bars the connector keeps:
// throughput at least 0.9x the verify+publish baseline of the same cell, p99
// at the fixed rate within 2 ms of it, and throughput on a prefilled journal
// at least 0.9x its own on an empty one with the same traffic.
func summarize(w io.Writer, cells []cellResult, o options) {
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "journal before\ttraffic\tconnector req/s\tverify+publish req/s\tratio\tp99 ms at %d/s (connector / baseline)\tconnector vs empty journal\tconnector CPU µs/req\tpeak RSS MiB\tstart-up s\n", o.rate)
	for _, c := range cells {
		vsEmpty := "-"
		if c.cell.prefill > 0 {
			for _, e := range cells {
				if e.cell.prefill == 0 && e.cell.shape == c.cell.shape {
					vsEmpty = fmt.Sprintf("%.2fx", c.throughput("connector")/e.throughput("connector"))
				}
			}
		}
		fmt.Fprintf(tw, "%d events\t%s\t%.0f\t%.0f\t%.2fx\t%.2f / %.2f (%+.2f)\t%s\t%.0f\t%.0f\t%.2f\n",
			c.cell.prefill, c.cell.shape, c.throughput("connector"), c.throughput("verify+publish"),
			c.throughput("connector")/c.throughput("verify+publish"),
			c.p99AtRate("connector"), c.p99AtRate("verify+publish"), c.p99AtRate("connector")-c.p99AtRate("verify+publish"),
			vsEmpty,
			c.median("connector", func(m measurement) float64 { return float64(m.cpuPerReq) / float64(time.Microsecond) }),
			c.median("connector", func(m measurement) float64 { return float64(m.peakRSS) / (1 << 20) }),
			c.median("connector", func(m measurement) float64 { return m.startup.Seconds() }))
	}
	tw.Flush()
}
