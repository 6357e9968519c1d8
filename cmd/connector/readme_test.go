package main

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"github.com/agentphone-connector/connector/sinks/bigquerysink"
)

// The README's configuration and event tables are generated from the Go
// definitions; this test fails when they drift. Regenerate with
// `go test ./cmd/connector -run README -update-readme`.
func TestREADMETablesAreCurrent(t *testing.T) {
	raw, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := string(raw)
	var cfg, ev bytes.Buffer
	printVarsMarkdown(&cfg)
	tables, err := bigquerysink.Tables()
	if err != nil {
		t.Fatal(err)
	}
	printEventsMarkdown(&ev, tables)
	for _, s := range []struct{ name, want string }{{"config", cfg.String()}, {"events", ev.String()}} {
		start, end := "<!-- "+s.name+":start -->\n", "<!-- "+s.name+":end -->"
		i, j := strings.Index(readme, start), strings.Index(readme, end)
		if i < 0 || j < i {
			t.Fatalf("README.md has no %s markers", s.name)
		}
		if got := readme[i+len(start) : j]; got != s.want {
			if *updateReadme {
				readme = readme[:i+len(start)] + s.want + readme[j:]
				continue
			}
			t.Errorf("the %s table of README.md is out of date; run go test ./cmd/connector -run README -update-readme", s.name)
		}
	}
	if *updateReadme {
		if err := os.WriteFile("../../README.md", []byte(readme), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
