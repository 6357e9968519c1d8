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
	"time"

	connector "github.com/agentphone-connector/connector"
)

// measurement is one target's figures in one round.
type measurement struct {
	closed, open result
	cpuPerReq    time.Duration
	peakRSS      int64
	startup      time.Duration // process start to ready (/readyz 200 for the connector)
}

// options are the flags every measuring command shares.
type options struct {
	connector        string
	duration, warmup time.Duration
	conc, rate       int
	rounds           int
	settle           time.Duration
}

func (o *options) register(fs *flag.FlagSet) {
	fs.StringVar(&o.connector, "connector", "", "path of the connector binary (required)")
	fs.DurationVar(&o.duration, "duration", 15*time.Second, "length of each measured phase")
	fs.DurationVar(&o.warmup, "warmup", 3*time.Second, "load before measuring")
	fs.IntVar(&o.conc, "c", 64, "concurrent connections of the throughput phase")
	fs.IntVar(&o.rate, "rate", 3000, "requests per second of the fixed-rate phase")
	fs.IntVar(&o.rounds, "rounds", 3, "rounds; targets alternate within each and the median is reported")
	fs.DurationVar(&o.settle, "settle", serverSettle, "with a prefill, wait this long after a journaling target is ready before loading it; 0 measures the first minutes after a restart")
}

// serverSettle is how long the embedded server takes to release what its
// start-up loaded from a large store: rebuilding the dedupe window reads
// every block of the window, and each block keeps its subject index for two
// minutes after its last use (nats-server's SubjectStateExpire). Until then
// the process holds about 115 MB more per million events, which its
// collector scans.
const serverSettle = 2*time.Minute + 15*time.Second

// cell is one configuration of the journal and the traffic.
type cell struct {
	shape   traffic
	prefill int // events journaled before the targets start
}

func (c cell) String() string {
	return fmt.Sprintf("%d events before, %s", c.prefill, c.shape)
}

// targets are the servers measured, in the order of the first round.
var targets = []string{"verify", "verify+publish", "connector"}

// cellResult holds every round of every target in one cell.
type cellResult struct {
	cell cell
	all  map[string][]measurement
}

func runBench(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	var o options
	o.register(fs)
	agents := fs.Int("agents", 4, "distinct agents the deliveries come from")
	convs := fs.Int("conversations", 1000, "distinct SMS conversations")
	calls := fs.Int("calls", 0, "distinct calls the call_ended deliveries cycle through; 0 for a new call each")
	pre := fs.Int("prefill", 0, "events journaled before measuring (the same traffic); each run of a journaling target gets a copy")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if o.connector == "" {
		return fmt.Errorf("--connector is required")
	}
	c := cell{shape: traffic{agents: *agents, conversations: *convs, calls: *calls}, prefill: *pre}
	res, err := measureCell(ctx, o, c, 0)
	if err != nil {
		return err
	}
	report(os.Stdout, res, o)
	return nil
}

// measureCell prefills a store for the cell when it asks for one, then
// measures every target o.rounds times, alternating them within each round.
// Every run of a journaling target starts on a store of its own: an empty
// one, or a copy of the prefilled store, so that each measures the journal
// the cell names and not what earlier runs added to it.
func measureCell(ctx context.Context, o options, c cell, index int) (cellResult, error) {
	tmp, err := os.MkdirTemp("", "loadbench")
	if err != nil {
		return cellResult{}, err
	}
	defer os.RemoveAll(tmp)
	h := history{events: c.prefill, shape: c.shape}
	cleanup, err := h.prefill(ctx)
	if err != nil {
		return cellResult{}, err
	}
	defer cleanup()
	res := cellResult{cell: c, all: map[string][]measurement{}}
	for r := range o.rounds {
		for i := range targets {
			name := targets[(i+r)%len(targets)]
			run := fmt.Sprintf("c%dr%d%s", index, r, name)
			m, err := measureRun(ctx, o, name, h, filepath.Join(tmp, run), run)
			if err != nil {
				return res, err
			}
			fmt.Fprintf(os.Stderr, "[%s] round %d %-15s %8.0f req/s  p99 %v  at %d/s p99 %v  wrong %d  start-up %v\n",
				c, r+1, name, m.closed.rate(), m.closed.pct(.99).Round(10*time.Microsecond), o.rate,
				m.open.pct(.99).Round(10*time.Microsecond), m.closed.wrong+m.open.wrong, m.startup.Round(time.Millisecond))
			res.all[name] = append(res.all[name], m)
		}
	}
	return res, nil
}

// measureRun measures one run of a target on a data directory of its own
// (history.runStore), removed afterwards. On a prefilled store the load
// starts o.settle after the target is ready.
func measureRun(ctx context.Context, o options, name string, h history, dir, run string) (measurement, error) {
	defer os.RemoveAll(dir)
	prefilled, err := h.runStore(name, dir)
	if err != nil {
		return measurement{}, err
	}
	settle := time.Duration(0)
	if prefilled {
		settle = o.settle
	}
	return measure(ctx, o, name, dir, run, h.shape, settle)
}

func measure(ctx context.Context, o options, name, dir, run string, shape traffic, settle time.Duration) (measurement, error) {
	// The workload's bad signatures come from the client of the good ones:
	// with a budget of rejections, they would be held a second each.
	t, err := startTarget(ctx, name, o.connector, dir, "CONNECTOR_REJECT_BUDGET=0")
	if err != nil {
		return measurement{}, err
	}
	defer t.stop()
	if settle > 0 {
		fmt.Fprintf(os.Stderr, "%s ready on the prefilled store; waiting %v for the server to settle\n", name, settle)
		if err := connector.Sleep(ctx, settle); err != nil {
			return measurement{}, err
		}
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 512, MaxConnsPerHost: 512, DisableCompression: true}, Timeout: 30 * time.Second}
	w := newWorkload(t.url, benchSecret, run, shape)
	w.closedLoop(ctx, client, o.conc, o.warmup)
	cpu0 := t.cpu()
	m := measurement{startup: t.startup}
	m.closed = w.closedLoop(ctx, client, o.conc, o.duration)
	m.cpuPerReq = (t.cpu() - cpu0) / time.Duration(max(1, m.closed.requests))
	m.open = w.openLoop(ctx, client, o.rate, o.duration)
	m.peakRSS = t.peakRSS()
	return m, ctx.Err()
}

// median returns the median of f over the target's rounds.
func (r cellResult) median(name string, f func(measurement) float64) float64 {
	var v []float64
	for _, m := range r.all[name] {
		v = append(v, f(m))
	}
	if len(v) == 0 {
		return 0
	}
	slices.Sort(v)
	return v[len(v)/2]
}

func (r cellResult) throughput(name string) float64 {
	return r.median(name, func(m measurement) float64 { return m.closed.rate() })
}

func (r cellResult) p99AtRate(name string) float64 {
	return r.median(name, func(m measurement) float64 { return ms(m.open.pct(.99)) })
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// runDrive puts the throughput load on a server started elsewhere.
func runDrive(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("drive", flag.ContinueOnError)
	url := fs.String("url", "http://127.0.0.1:8080/webhooks/agentphone", "webhook URL")
	secret := fs.String("secret", benchSecret, "webhook secret the server holds")
	duration := fs.Duration("duration", 15*time.Second, "how long")
	conc := fs.Int("c", 64, "concurrent connections")
	agents := fs.Int("agents", 4, "distinct agents the deliveries come from")
	convs := fs.Int("conversations", 1000, "distinct SMS conversations")
	if err := fs.Parse(args); err != nil {
		return err
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 512, DisableCompression: true}, Timeout: 30 * time.Second}
	shape := traffic{agents: *agents, conversations: *convs}
	r := newWorkload(*url, *secret, strconv.FormatInt(time.Now().UnixNano(), 36), shape).closedLoop(ctx, client, *conc, *duration)
	fmt.Printf("%.0f req/s, p50 %v, p99 %v, codes %v, wrong answers %d\n", r.rate(), r.pct(.5), r.pct(.99), r.codes, r.wrong)
	return nil
}
