package main

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// parseSince reads a --since flag: an RFC 3339 time, a date ("2026-03-01",
// UTC), whole days ("7d") or a Go duration ("36h") before now. "" is the zero
// time.
func parseSince(s string, now time.Time) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	if d, ok := strings.CutSuffix(s, "d"); ok {
		if n, err := strconv.Atoi(d); err == nil && n >= 0 {
			return now.AddDate(0, 0, -n), nil
		}
	}
	if d, err := time.ParseDuration(s); err == nil && d >= 0 {
		return now.Add(-d), nil
	}
	return time.Time{}, fmt.Errorf("--since %q: not a time (RFC 3339 or YYYY-MM-DD), days (7d) or a duration (36h)", s)
}
