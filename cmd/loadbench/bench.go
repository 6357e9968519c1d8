package main

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"text/tabwriter"
	"time"
)

// measurement is one target's figures in one round.
type measurement struct {
	closed, open result
	cpuPerReq    time.Duration
	peakRSS      int64
}

func runBench(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	connector := fs.String("connector", "", "path of the connector binary (required)")
	duration := fs.Duration("duration", 15*time.Second, "length of each measured phase")
	warmup := fs.Duration("warmup", 3*time.Second, "load before measuring")
	conc := fs.Int("c", 64, "concurrent connections of the throughput phase")
	rate := fs.Int("rate", 3000, "requests per second of the fixed-rate phase")
	rounds := fs.Int("rounds", 3, "rounds; targets alternate within each and the median is reported")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *connector == "" {
		return fmt.Errorf("--connector is required")
	}
	names := []string{"verify", "verify+publish", "connector"}
	all := map[string][]measurement{}
	tmp, err := os.MkdirTemp("", "loadbench")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	for r := range *rounds {
		for i := range names {
			name := names[(i+r)%len(names)]
			dir := filepath.Join(tmp, fmt.Sprintf("%d-%d", r, i))
			m, err := measure(ctx, name, *connector, dir, *conc, *rate, *warmup, *duration, r)
			if err != nil {
				return err
			}
			fmt.Fprintf(os.Stderr, "round %d %-15s %8.0f req/s  p99 %v  at %d/s p99 %v  wrong %d\n",
				r+1, name, m.closed.rate(), m.closed.pct(.99).Round(10*time.Microsecond), *rate, m.open.pct(.99).Round(10*time.Microsecond), m.closed.wrong+m.open.wrong)
			all[name] = append(all[name], m)
		}
	}
	report(os.Stdout, names, all, *conc, *rate)
	return nil
}

func measure(ctx context.Context, name, connector, dir string, conc, rate int, warmup, d time.Duration, round int) (measurement, error) {
	// The workload's bad signatures come from the client of the good ones:
	// with a budget of rejections, they would be held a second each.
	t, err := startTarget(ctx, name, connector, dir, "CONNECTOR_REJECT_BUDGET=0")
	if err != nil {
		return measurement{}, err
	}
	defer t.stop()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 512, MaxConnsPerHost: 512, DisableCompression: true}, Timeout: 30 * time.Second}
	w := newWorkload(t.url, benchSecret, name+strconv.Itoa(round))
	w.closedLoop(ctx, client, conc, warmup)
	cpu0 := t.cpu()
	var m measurement
	m.closed = w.closedLoop(ctx, client, conc, d)
	m.cpuPerReq = (t.cpu() - cpu0) / time.Duration(max(1, m.closed.requests))
	m.open = w.openLoop(ctx, client, rate, d)
	m.peakRSS = t.peakRSS()
	return m, ctx.Err()
}

// report prints the median of each figure and the ratios to the baselines.
func report(w *os.File, names []string, all map[string][]measurement, conc, rate int) {
	med := func(name string, f func(measurement) float64) float64 {
		var v []float64
		for _, m := range all[name] {
			v = append(v, f(m))
		}
		slices.Sort(v)
		return v[len(v)/2]
	}
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "server\treq/s (C=%d)\tp50 ms\tp99 ms\tp50 ms at %d/s\tp99 ms at %d/s\tCPU µs/req\tpeak RSS MiB\twrong answers\n", conc, rate, rate)
	for _, n := range names {
		fmt.Fprintf(tw, "%s\t%.0f\t%.2f\t%.2f\t%.2f\t%.2f\t%.0f\t%.0f\t%.0f\n", n,
			med(n, func(m measurement) float64 { return m.closed.rate() }),
			med(n, func(m measurement) float64 { return ms(m.closed.pct(.50)) }),
			med(n, func(m measurement) float64 { return ms(m.closed.pct(.99)) }),
			med(n, func(m measurement) float64 { return ms(m.open.pct(.50)) }),
			med(n, func(m measurement) float64 { return ms(m.open.pct(.99)) }),
			med(n, func(m measurement) float64 { return float64(m.cpuPerReq) / float64(time.Microsecond) }),
			med(n, func(m measurement) float64 { return float64(m.peakRSS) / (1 << 20) }),
			med(n, func(m measurement) float64 { return float64(m.closed.wrong + m.open.wrong) }))
	}
	tw.Flush()
	c := func(n string) float64 { return med(n, func(m measurement) float64 { return m.closed.rate() }) }
	p99 := func(n string) float64 { return med(n, func(m measurement) float64 { return ms(m.open.pct(.99)) }) }
	fmt.Fprintf(w, "\nconnector / verify+publish throughput: %.2fx   connector / verify: %.2fx\n",
		c("connector")/c("verify+publish"), c("connector")/c("verify"))
	fmt.Fprintf(w, "p99 at %d/s: connector %.2f ms, verify+publish %.2f ms (difference %+.2f ms)\n",
		rate, p99("connector"), p99("verify+publish"), p99("connector")-p99("verify+publish"))
}

// runDrive puts the throughput load on a server started elsewhere.
func runDrive(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("drive", flag.ContinueOnError)
	url := fs.String("url", "http://127.0.0.1:8080/webhooks/agentphone", "webhook URL")
	secret := fs.String("secret", benchSecret, "webhook secret the server holds")
	duration := fs.Duration("duration", 15*time.Second, "how long")
	conc := fs.Int("c", 64, "concurrent connections")
	if err := fs.Parse(args); err != nil {
		return err
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 512, DisableCompression: true}, Timeout: 30 * time.Second}
	r := newWorkload(*url, *secret, strconv.FormatInt(time.Now().UnixNano(), 36)).closedLoop(ctx, client, *conc, *duration)
	fmt.Printf("%.0f req/s, p50 %v, p99 %v, codes %v, wrong answers %d\n", r.rate(), r.pct(.5), r.pct(.99), r.codes, r.wrong)
	return nil
}
