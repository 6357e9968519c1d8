package main

import (
	"context"
	"flag"
	"fmt"
	"os"
)

// runScale measures the connector and its baselines in the four cells that
// show whether cost per event depends on history: an empty journal and one
// prefilled with --events events, each with traffic from 4 agents and from
// 100,000 agents (each call_ended a new call throughout).
func runScale(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("scale", flag.ContinueOnError)
	var o options
	o.register(fs)
	events := fs.Int("events", 1_000_000, "events in the prefilled journal")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if o.connector == "" {
		return fmt.Errorf("--connector is required")
	}
	shapes := []traffic{{agents: 4, conversations: 1000}, {agents: 100_000, conversations: 100_000}}
	var cells []cellResult
	for _, shape := range shapes {
		for _, pre := range []int{0, *events} {
			r, err := measureCell(ctx, o, cell{shape: shape, prefill: pre}, len(cells))
			if err != nil {
				return err
			}
			report(os.Stdout, r, o)
			cells = append(cells, r)
		}
	}
	summarize(os.Stdout, cells, o)
	return nil
}
