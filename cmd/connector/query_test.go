package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"cloud.google.com/go/bigquery"
	"cloud.google.com/go/civil"
	"github.com/sethvargo/go-envconfig"

	"github.com/agentphone-connector/connector/sinks/bigquerysink"
)

func TestQueryList(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := Main(context.Background(), []string{"query", "--list"}, envconfig.MapLookuper(nil), &out, &errOut); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	for _, q := range bigquerysink.Queries() {
		if !strings.Contains(out.String(), q.Name) {
			t.Errorf("--list does not show %s:\n%s", q.Name, out.String())
		}
	}
}

func TestQueryUsageErrors(t *testing.T) {
	for name, args := range map[string][]string{
		"no name":      {"query"},
		"bad format":   {"query", "calls", "--format", "xml"},
		"bad since":    {"query", "calls", "--since", "soon"},
		"extra args":   {"query", "calls", "more"},
		"unknown flag": {"query", "calls", "--colour"},
	} {
		t.Run(name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			if code := Main(context.Background(), args, envconfig.MapLookuper(nil), &out, &errOut); code != 2 {
				t.Errorf("exit %d, want 2 (usage); stderr: %s", code, errOut.String())
			}
		})
	}
}

func TestQueryNeedsProject(t *testing.T) {
	var out, errOut bytes.Buffer
	code := Main(context.Background(), []string{"query", "calls"}, envconfig.MapLookuper(nil), &out, &errOut)
	if code != 1 || !strings.Contains(errOut.String(), "CONNECTOR_BIGQUERY_PROJECT") {
		t.Errorf("exit %d, stderr %q: want 1 naming CONNECTOR_BIGQUERY_PROJECT", code, errOut.String())
	}
}

func TestParseSince(t *testing.T) {
	now := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	for in, want := range map[string]time.Time{
		"7d":         time.Date(2026, 3, 3, 12, 0, 0, 0, time.UTC),
		"0d":         now,
		"36h":        time.Date(2026, 3, 9, 0, 0, 0, 0, time.UTC),
		"2026-03-01": time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC),
	} {
		got, err := parseSince(in, now)
		if err != nil || !got.Equal(want) {
			t.Errorf("parseSince(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"-1d", "xd", "yesterday", "-3h"} {
		if _, err := parseSince(bad, now); err == nil {
			t.Errorf("parseSince(%q) accepted", bad)
		}
	}
}

func TestPrintResult(t *testing.T) {
	res := &bigquerysink.Result{
		Columns: []string{"day", "agent_id", "calls", "success_rate", "last"},
		Rows: [][]bigquery.Value{
			{civil.Date{Year: 2026, Month: 3, Day: 2}, "agt_a", int64(3), 2.0 / 3, time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)},
			{civil.Date{Year: 2026, Month: 3, Day: 3}, nil, int64(1), nil, nil},
		},
	}
	for format, want := range map[string][]string{
		"table": {"success_rate", "0.6667", "2026-03-02T10:00:00Z", "-"},
		"csv":   {"day,agent_id,calls,success_rate,last\n", "2026-03-02,agt_a,3,0.6666666666666666,2026-03-02T10:00:00Z\n", "2026-03-03,,1,,\n"},
		"json":  {`{"day": "2026-03-02", "agent_id": "agt_a", "calls": 3, "success_rate": 0.6666666666666666, "last": "2026-03-02T10:00:00Z"}`, `"agent_id": null`},
	} {
		var b bytes.Buffer
		if err := printResult(&b, res, format); err != nil {
			t.Fatal(err)
		}
		for _, w := range want {
			if !strings.Contains(b.String(), w) {
				t.Errorf("%s output lacks %q:\n%s", format, w, b.String())
			}
		}
	}
}
