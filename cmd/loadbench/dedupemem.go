package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/agentphone-connector/connector/journal"
	"github.com/agentphone-connector/connector/natsserver"
)

// runDedupeMemory measures what the journal holds in memory per event: the
// same events published into a stream that remembers their IDs for 72 h and
// into one that forgets them after a second, each in a fresh process (the
// difference in live heap, divided by the events, is the cost of a
// remembered ID); and once more with each event on a subject of its own, as
// each call and conversation has (the cost of a subject).
func runDedupeMemory(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("dedupe-memory", flag.ContinueOnError)
	keys := fs.Int("keys", 1_000_000, "event IDs to remember")
	if err := fs.Parse(args); err != nil {
		return err
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	heap := map[string]uint64{}
	for _, run := range []struct{ name, window, subjects string }{
		{"remembered", "72h", "false"}, {"forgotten", "1s", "false"}, {"one subject each", "72h", "true"},
	} {
		out, err := exec.CommandContext(ctx, self, "dedupe-memory-one", "--keys", fmt.Sprint(*keys), "--window", run.window,
			"--subjects="+run.subjects).Output()
		if err != nil {
			return fmt.Errorf("%s: %w", run.name, err)
		}
		var r struct{ Heap uint64 }
		if err := json.Unmarshal(out, &r); err != nil {
			return fmt.Errorf("%s: %s: %w", run.name, out, err)
		}
		heap[run.name] = r.Heap
		fmt.Printf("%d events, IDs %s: live heap %.1f MiB\n", *keys, run.name, float64(r.Heap)/(1<<20))
	}
	fmt.Printf("per remembered event ID: %.0f bytes\n", float64(heap["remembered"]-heap["forgotten"])/float64(*keys))
	fmt.Printf("per distinct subject (call or conversation): %.0f bytes\n", float64(heap["one subject each"]-heap["remembered"])/float64(*keys))
	return nil
}

// runDedupeMemoryOne publishes the keys and prints the live heap.
func runDedupeMemoryOne(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("dedupe-memory-one", flag.ContinueOnError)
	keys := fs.Int("keys", 1_000_000, "")
	window := fs.Duration("window", 72*time.Hour, "")
	subjects := fs.Bool("subjects", false, "publish each event on a subject of its own")
	if err := fs.Parse(args); err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "dedupemem")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	ns, err := natsserver.Start(ctx, natsserver.Config{Listen: "none", MaxPayload: 1 << 20, StoreDir: dir, StartWait: time.Minute}, log)
	if err != nil {
		return err
	}
	defer ns.Shutdown(context.Background())
	nc, err := ns.Connect()
	if err != nil {
		return err
	}
	defer nc.Close()
	js, _ := jetstream.New(nc, jetstream.WithPublishAsyncMaxPending(4096))
	cfg := journal.StreamConfig(journal.Config{Stream: "MEM", SubjectPrefix: "mem", Replicas: 1, MaxAge: 168 * time.Hour, MaxBytes: -1, DedupeWindow: *window})
	if _, err := js.CreateOrUpdateStream(ctx, cfg); err != nil {
		return err
	}
	for i := range *keys {
		msg := &nats.Msg{Subject: "mem.x", Data: []byte("x")}
		if *subjects {
			msg.Subject = fmt.Sprintf("mem.message.conv_%016x.sms.agt_1", uint64(i)*0x9e3779b97f4a7c15)
		}
		if _, err := js.PublishMsgAsync(msg, jetstream.WithMsgID(fmt.Sprintf("whd_%016x", uint64(i)*0x9e3779b97f4a7c15)),
			jetstream.WithStallWait(time.Minute)); err != nil {
			return err
		}
	}
	select {
	case <-js.PublishAsyncComplete():
	case <-ctx.Done():
		return ctx.Err()
	}
	time.Sleep(3 * time.Second) // a 1 s window purges its IDs; both variants wait alike
	runtime.GC()
	debug.FreeOSMemory()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return json.NewEncoder(os.Stdout).Encode(map[string]uint64{"Heap": m.HeapAlloc})
}
