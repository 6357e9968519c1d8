package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
)

// history is what the journal holds before a measurement: events prefilled
// once into dir, of which each connector started gets a copy of its own,
// and the shape of the traffic, prefilled and measured.
type history struct {
	events int
	dir    string
	shape  traffic
}

// register adds the flags that set the history and the traffic's shape.
func (h *history) register(fs *flag.FlagSet) {
	fs.IntVar(&h.events, "prefill", 0, "events journaled before each connector starts")
	fs.IntVar(&h.shape.agents, "agents", 4, "distinct agents the deliveries come from, prefilled and measured")
	fs.IntVar(&h.shape.conversations, "conversations", 1000, "distinct SMS conversations")
}

// prefill journals the history's events into a directory of its own, once;
// the returned function removes it.
func (h *history) prefill(ctx context.Context) (func(), error) {
	if h.events == 0 {
		return func() {}, nil
	}
	tmp, err := os.MkdirTemp("", "loadbench-prefill")
	if err != nil {
		return nil, err
	}
	h.dir = filepath.Join(tmp, "prefilled")
	if err := prefill(ctx, h.dir, h.events, h.shape); err != nil {
		os.RemoveAll(tmp)
		return nil, fmt.Errorf("prefill: %w", err)
	}
	return func() { os.RemoveAll(tmp) }, nil
}

// copyTo gives dir, a connector's data directory, a copy of the history.
func (h history) copyTo(dir string) error {
	if h.events == 0 {
		return nil
	}
	if err := os.CopyFS(dir, os.DirFS(h.dir)); err != nil {
		return fmt.Errorf("copy the prefilled store: %w", err)
	}
	return nil
}

// runStore makes dir the data directory of one run of the named target: a
// copy of the history for a target that journals, so that no run sees what
// another added, and an empty directory otherwise. It reports whether the
// run starts on a prefilled store.
func (h history) runStore(name, dir string) (bool, error) {
	if name == "verify" || h.events == 0 {
		return false, os.MkdirAll(dir, 0o755)
	}
	return true, h.copyTo(dir)
}
