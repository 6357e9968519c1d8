package main

import (
	"context"
	"strings"
	"testing"
	"time"
)

// TestPrefilledArrivalsCounted: the prefilled events a sink delivers are
// counted, not kept, and the wait for them ends when every target holds
// them all, and not before.
func TestPrefilledArrivalsCounted(t *testing.T) {
	s := &sinkTargets{arrivals: map[string]map[string]time.Time{"kafka": {}, "nats": {}, "bigquery": {}}, prefilled: map[string]int{}}
	now := time.Now()
	for _, target := range latencyTargets {
		s.arrived(target, prefilledIDs+"1", now)
		s.arrived(target, "whd_lat_1", now)
	}
	s.arrived("kafka", prefilledIDs+"2", now)
	s.arrived("nats", prefilledIDs+"2", now)
	for _, target := range latencyTargets {
		if _, ok := s.arrival(target, prefilledIDs+"1"); ok {
			t.Errorf("%s: a prefilled event was kept", target)
		}
		if _, ok := s.arrival(target, "whd_lat_1"); !ok {
			t.Errorf("%s: a measured event was not kept", target)
		}
	}
	err := s.waitPrefilled(context.Background(), 2, 300*time.Millisecond)
	if err == nil || !strings.Contains(err.Error(), "bigquery:1") {
		t.Fatalf("with BigQuery one event short: %v, want it named as missing one", err)
	}
	s.arrived("bigquery", prefilledIDs+"2", now)
	if err := s.waitPrefilled(context.Background(), 2, time.Second); err != nil {
		t.Fatal(err)
	}
}
