package main

import (
	"context"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"text/tabwriter"
	"time"
)

// runFlood measures what a flood of forged deliveries from one client does
// to the genuine deliveries of another: the genuine ones at a fixed rate
// from 127.0.0.1, first alone, then beside c connections sending
// bad signatures back to back from 127.0.0.2. It runs the connector with
// its defaults and, for comparison, with the rejection budget off, each in
// its own process, alternating over rounds; it reports the medians.
func runFlood(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("flood", flag.ContinueOnError)
	connector := fs.String("connector", "", "path of the connector binary (required)")
	duration := fs.Duration("duration", 20*time.Second, "length of each measured phase")
	rate := fs.Int("rate", 500, "genuine deliveries per second")
	conc := fs.Int("c", 64, "connections of the flood")
	rounds := fs.Int("rounds", 3, "rounds; the two configurations alternate within each and the median is reported")
	var h history
	h.register(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *connector == "" {
		return fmt.Errorf("--connector is required")
	}
	cleanup, err := h.prefill(ctx)
	if err != nil {
		return err
	}
	defer cleanup()
	tmp, err := os.MkdirTemp("", "loadbench-flood")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	budgets := []string{"", "0"}
	all := map[string][]floodFigures{}
	for r := range *rounds {
		for i := range budgets {
			budget := budgets[(i+r)%len(budgets)]
			f, err := floodRound(ctx, *connector, filepath.Join(tmp, fmt.Sprintf("%d-%s", r, budget)), h, budget, *rate, *conc, *duration)
			if err != nil {
				return err
			}
			fmt.Fprintf(os.Stderr, "round %d budget %q: p99 alone %v, beside the flood %v, refused %d, flood %.0f req/s %v\n", r+1, budget,
				f.alone.pct(.99).Round(10*time.Microsecond), f.beside.pct(.99).Round(10*time.Microsecond), f.refused(), f.flood.rate(), f.flood.codes)
			all[budget] = append(all[budget], f)
		}
	}
	tw := tabwriter.NewWriter(os.Stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "connector\tgenuine p50 / p99 ms alone\tbeside the flood\tp99 ratio\tgenuine refused\tflood req/s\n")
	for _, budget := range budgets {
		name := "defaults"
		if budget != "" {
			name = "CONNECTOR_REJECT_BUDGET=" + budget
		}
		fs := all[budget]
		med := func(f func(floodFigures) float64) float64 {
			var v []float64
			for _, x := range fs {
				v = append(v, f(x))
			}
			slices.Sort(v)
			return v[len(v)/2]
		}
		ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
		refused, total := 0, 0
		for _, f := range fs {
			refused += f.refused()
			total += f.alone.requests + f.beside.requests
		}
		fmt.Fprintf(tw, "%s\t%.2f / %.2f\t%.2f / %.2f\t%.2fx\t%d of %d\t%.0f\n", name,
			med(func(f floodFigures) float64 { return ms(f.alone.pct(.5)) }), med(func(f floodFigures) float64 { return ms(f.alone.pct(.99)) }),
			med(func(f floodFigures) float64 { return ms(f.beside.pct(.5)) }), med(func(f floodFigures) float64 { return ms(f.beside.pct(.99)) }),
			med(func(f floodFigures) float64 { return float64(f.beside.pct(.99)) / float64(f.alone.pct(.99)) }),
			refused, total, med(func(f floodFigures) float64 { return f.flood.rate() }))
	}
	return tw.Flush()
}

// floodFigures is what one round measured: the genuine deliveries alone and
// beside the flood, and the flood.
type floodFigures struct{ alone, beside, flood result }

// refused counts the genuine deliveries not answered 200.
func (f floodFigures) refused() int { return f.alone.wrong + f.beside.wrong }

// floodRound runs one connector and measures the genuine deliveries alone,
// then beside the flood.
func floodRound(ctx context.Context, connector, dir string, h history, budget string, rate, conc int, d time.Duration) (f floodFigures, err error) {
	if err := h.copyTo(dir); err != nil {
		return f, err
	}
	var env []string
	if budget != "" {
		env = append(env, "CONNECTOR_REJECT_BUDGET="+budget)
	}
	t, err := startTarget(ctx, "connector", connector, dir, env...)
	if err != nil {
		return f, err
	}
	defer t.stop()
	run := strconv.FormatInt(time.Now().UnixNano(), 36)
	genuine := newWorkload(t.url, benchSecret, run, h.shape)
	genuine.badRate = 0
	gc := clientFrom("127.0.0.1")
	genuine.openLoop(ctx, gc, rate, 3*time.Second) // warm up
	f.alone = genuine.openLoop(ctx, gc, rate, d)

	forger := newWorkload(t.url, benchSecret, run+"f", h.shape)
	forger.badRate, forger.dupRate = 1, 0
	fctx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() { f.flood = forger.closedLoop(fctx, clientFrom("127.0.0.2"), conc, d+2*time.Second) })
	time.Sleep(time.Second) // the flood at full speed before measuring
	f.beside = genuine.openLoop(ctx, gc, rate, d)
	stop()
	wg.Wait()
	return f, ctx.Err()
}

// clientFrom returns an HTTP client whose connections come from the local
// address ip (any of 127.0.0.0/8 on Linux).
func clientFrom(ip string) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
	return &http.Client{
		Transport: &http.Transport{DialContext: d.DialContext, MaxIdleConnsPerHost: 512, MaxConnsPerHost: 512, DisableCompression: true},
		Timeout:   30 * time.Second,
	}
}
