package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"text/tabwriter"
	"time"
)

// latencyCase is one set of batch settings the latency command measures.
type latencyCase struct {
	name string
	env  []string // added to the connector's environment
}

// sinkVars are the variable prefixes of the three sinks.
var sinkVars = []string{"CONNECTOR_KAFKA_", "CONNECTOR_NATS_SINK_", "CONNECTOR_BIGQUERY_"}

// each sets the variable of every sink named by suffix to value.
func each(suffix, value string) []string {
	var out []string
	for _, p := range sinkVars {
		out = append(out, p+suffix+"="+value)
	}
	return out
}

// latencyCases are the settings measured: the defaults (Kafka and NATS 500
// events or 50ms, BigQuery 500 events or 200ms), then each way to move them.
func latencyCases() []latencyCase {
	return []latencyCase{
		{"defaults", nil},
		{"BATCH_TIMEOUT=10ms", each("BATCH_TIMEOUT", "10ms")},
		{"BATCH_TIMEOUT=200ms", each("BATCH_TIMEOUT", "200ms")},
		{"BATCH_TIMEOUT=1s", each("BATCH_TIMEOUT", "1s")},
		{"BATCH_SIZE=50", each("BATCH_SIZE", "50")},
	}
}

// latencyTargets are the sinks whose latency is measured, in the table's order.
var latencyTargets = []string{"kafka", "nats", "bigquery"}

// runLatency measures, at a fixed rate of signed webhooks, the time from
// each webhook's 200 to its event being readable in each sink's target,
// for each case of batch settings, each on a connector of its own.
func runLatency(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("latency", flag.ContinueOnError)
	connector := fs.String("connector", "", "path of the connector binary (required)")
	rate := fs.Int("rate", 3000, "webhooks per second")
	duration := fs.Duration("duration", 20*time.Second, "measured time per case")
	warmup := fs.Duration("warmup", 3*time.Second, "load before measuring")
	kafka := fs.String("kafka", "", "Kafka brokers (host:port, comma separated) to use instead of kfake in this process; the topic is created")
	only := fs.String("cases", "", "comma-separated case names to run (default: all)")
	var h history // the prefilled events every sink delivers before a case is measured
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
	var rows []latencyRow
	for _, c := range latencyCases() {
		if *only != "" && !slices.Contains(strings.Split(*only, ","), c.name) {
			continue
		}
		row, err := measureLatency(ctx, *connector, *kafka, c, h, *rate, *warmup, *duration)
		if err != nil {
			return fmt.Errorf("%s: %w", c.name, err)
		}
		fmt.Fprintf(os.Stderr, "[%s] %s\n", c.name, row.line())
		rows = append(rows, row)
	}
	reportLatency(os.Stdout, rows, *rate, *duration)
	return nil
}

// latencyRow is what one case measured.
type latencyRow struct {
	name     string
	webhooks result                     // the fixed-rate phase, answers and their latency
	lat      map[string][]time.Duration // by target, sorted
	missing  map[string]int             // by target: acknowledged events never readable there
}

func (r latencyRow) line() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d webhooks, p99 %v", r.webhooks.requests, r.webhooks.pct(.99).Round(10*time.Microsecond))
	for _, t := range latencyTargets {
		l := r.lat[t]
		fmt.Fprintf(&b, "; %s p50 %v p99 %v max %v missing %d", t, pct(l, .5), pct(l, .99), pct(l, 1), r.missing[t])
	}
	return b.String()
}

// measureLatency runs one case: the targets, a connector delivering to
// them, the fixed-rate load, then the wait for every event to arrive.
func measureLatency(ctx context.Context, connector, kafka string, c latencyCase, h history, rate int, warmup, d time.Duration) (latencyRow, error) {
	run := fmt.Sprintf("lat%d", time.Now().UnixNano())
	ts, err := startSinkTargets(ctx, kafka, run)
	if err != nil {
		return latencyRow{}, err
	}
	defer ts.close()
	dir, err := os.MkdirTemp("", "latency")
	if err != nil {
		return latencyRow{}, err
	}
	defer os.RemoveAll(dir)
	if err := h.copyTo(dir); err != nil {
		return latencyRow{}, err
	}
	t, err := startTarget(ctx, "connector", connector, dir, append(ts.env(), c.env...)...)
	if err != nil {
		return latencyRow{}, err
	}
	defer t.stop()
	if err := ts.readKafka(ctx); err != nil {
		return latencyRow{}, err
	}
	if err := ts.waitPrefilled(ctx, h.events, 10*time.Minute); err != nil {
		return latencyRow{}, err
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 512, MaxConnsPerHost: 512, DisableCompression: true}, Timeout: 30 * time.Second}
	w := newWorkload(t.url, benchSecret, run, h.shape)
	w.dupRate, w.badRate = 0, 0 // every request a new event
	w.openLoop(ctx, client, rate, warmup)
	acks := &ackTimes{at: map[string]time.Time{}}
	w.onAck = acks.add
	row := latencyRow{name: c.name, webhooks: w.openLoop(ctx, client, rate, d)}
	row.lat, row.missing = collect(ctx, ts, acks.all(), time.Minute)
	return row, ctx.Err()
}

// ackTimes are the times webhooks were answered 200, by event ID.
type ackTimes struct {
	mu sync.Mutex
	at map[string]time.Time
}

func (a *ackTimes) add(id string, t time.Time) {
	a.mu.Lock()
	a.at[id] = t
	a.mu.Unlock()
}

func (a *ackTimes) all() map[string]time.Time {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.at
}

// collect waits (at most wait) until every acknowledged event has arrived
// in every target, and returns each target's latencies, sorted, and how
// many never arrived.
func collect(ctx context.Context, ts *sinkTargets, acked map[string]time.Time, wait time.Duration) (map[string][]time.Duration, map[string]int) {
	deadline := time.Now().Add(wait)
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		lat, missing := latencies(ts, acked)
		total := 0
		for _, n := range missing {
			total += n
		}
		if total == 0 || time.Now().After(deadline) || ctx.Err() != nil {
			return lat, missing
		}
		select {
		case <-tick.C:
		case <-ctx.Done():
		}
	}
}

// latencies returns, per target, the time from each event's 200 to its
// arrival (sorted), and how many have not arrived.
func latencies(ts *sinkTargets, acked map[string]time.Time) (map[string][]time.Duration, map[string]int) {
	lat, missing := map[string][]time.Duration{}, map[string]int{}
	for _, target := range latencyTargets {
		for id, at := range acked {
			got, ok := ts.arrival(target, id)
			if !ok {
				missing[target]++
				continue
			}
			lat[target] = append(lat[target], got.Sub(at))
		}
		slices.Sort(lat[target])
	}
	return lat, missing
}

// pct returns the p-quantile of sorted latencies, in milliseconds rounded.
func pct(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[min(len(sorted)-1, int(float64(len(sorted))*p))].Round(100 * time.Microsecond)
}

// reportLatency prints the table: per case and target, p50, p99 and max
// milliseconds from a webhook's 200 to its event being readable.
func reportLatency(w io.Writer, rows []latencyRow, rate int, d time.Duration) {
	fmt.Fprintf(w, "time from a webhook's 200 to its event readable in the target, at %d webhooks/s for %s; ms p50 / p99 / max\n", rate, d)
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "settings\tKafka\tNATS\tBigQuery\twebhook p99 ms\tnot arrived")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s", r.name)
		missing := 0
		for _, t := range latencyTargets {
			l := r.lat[t]
			fmt.Fprintf(tw, "\t%.1f / %.1f / %.1f", ms(pct(l, .5)), ms(pct(l, .99)), ms(pct(l, 1)))
			missing += r.missing[t]
		}
		fmt.Fprintf(tw, "\t%.2f\t%d\n", ms(r.webhooks.pct(.99)), missing)
	}
	tw.Flush()
}
