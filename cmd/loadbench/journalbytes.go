package main

import (
	"context"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/agentphone-connector/connector/agentphonetest"
	"github.com/agentphone-connector/connector/journal"
	"github.com/agentphone-connector/connector/transform"
)

// runJournalBytes measures what the journal stores per event: simulated days
// of AgentPhone webhooks (messages, calls with their transcripts, voice turns,
// reactions, the odd unknown event, in the mix a day has) are normalized as
// the webhook source does and appended to a journal on an embedded server
// with a file store. It prints the stream's bytes and the store's size on
// disk, per event and per million events.
func runJournalBytes(ctx context.Context, args []string) error {
	flags := flag.NewFlagSet("journal-bytes", flag.ContinueOnError)
	n := flags.Int("events", 100_000, "events to journal")
	conc := flags.Int("concurrency", 32, "appends in flight")
	if err := flags.Parse(args); err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "journalbytes")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	st, err := openStore(ctx, dir)
	if err != nil {
		return err
	}
	defer st.close()
	j, err := st.journal(ctx)
	if err != nil {
		return err
	}
	nc, cfg := st.nc, benchJournal()
	bodies, raw := simulatedBodies(*n)
	if err := appendAll(ctx, j, len(bodies), *conc, func(i int) (string, []byte) { return bodies[i][0], []byte(bodies[i][1]) }); err != nil {
		return err
	}
	js, err := jetstream.New(nc)
	if err != nil {
		return err
	}
	s, err := js.Stream(ctx, cfg.Stream)
	if err != nil {
		return err
	}
	info := s.CachedInfo().State
	disk, err := dirSize(dir)
	if err != nil {
		return err
	}
	perEvent := float64(info.Bytes) / float64(info.Msgs)
	fmt.Printf("%d events journaled (raw bodies %.0f bytes on average): stream %.1f MiB, %.0f bytes per event, %.2f GiB per million; "+
		"store on disk %.1f MiB, %.2f GiB per million\n",
		info.Msgs, float64(raw)/float64(len(bodies)), float64(info.Bytes)/(1<<20), perEvent, perEvent*1e6/(1<<30),
		float64(disk)/(1<<20), float64(disk)/float64(info.Msgs)*1e6/(1<<30))
	return nil
}

// simulatedBodies returns n webhook bodies from simulated days, each with a
// unique ID, and their total size.
func simulatedBodies(n int) ([][2]string, int) {
	var out [][2]string
	raw := 0
	for seed := uint64(1); len(out) < n; seed++ {
		a := agentphonetest.Generate(agentphonetest.AccountOptions{Seed: seed, Calls: 400, Messages: 1200})
		for _, e := range a.Events {
			if len(out) == n {
				break
			}
			out = append(out, [2]string{fmt.Sprintf("whd_%d_%06d", seed, len(out)), string(e.Body)})
			raw += len(e.Body)
		}
	}
	return out, raw
}

// appendAll normalizes and journals the n deliveries delivery(0..n-1)
// gives, conc at a time.
func appendAll(ctx context.Context, j *journal.Journal, n, conc int, delivery func(i int) (id string, body []byte)) error {
	var next atomic.Int64
	errs := make(chan error, conc)
	var wg sync.WaitGroup
	for range conc {
		wg.Go(func() {
			for i := int(next.Add(1) - 1); i < n && ctx.Err() == nil; i = int(next.Add(1) - 1) {
				id, body := delivery(i)
				e := transform.Normalize(transform.Meta{ID: id, Source: "agentphone/webhook/project", ReceivedAt: time.Now()}, body)
				if _, err := j.Append(ctx, e); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return err
	}
	return ctx.Err()
}

// dirSize adds up the sizes of the files under dir.
func dirSize(dir string) (int64, error) {
	var total int64
	err := filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		fi, err := d.Info()
		if err == nil {
			total += fi.Size()
		}
		return err
	})
	return total, err
}
