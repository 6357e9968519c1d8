package sinks_test

import (
	"testing"
	"time"

	"github.com/agentphone-connector/connector/sinks"
	"github.com/agentphone-connector/connector/sinks/sinktest"
)

func TestConfigValidate(t *testing.T) {
	cases := []struct {
		name  string
		edit  func(*sinks.Config)
		valid bool
	}{
		{"defaults of the tests", func(*sinks.Config) {}, true},
		{"no retry wait", func(c *sinks.Config) { c.RetryMin = 0 }, false},
		{"max under min", func(c *sinks.Config) { c.RetryMax = c.RetryMin / 2 }, false},
		{"no write timeout", func(c *sinks.Config) { c.WriteTimeout = 0 }, false},
		{"ack wait under twice the write timeout", func(c *sinks.Config) { c.AckWait = c.WriteTimeout }, false},
		{"bad stream", func(c *sinks.Config) { c.DeadLetter.Stream = "a.b" }, false},
		{"bad prefix", func(c *sinks.Config) { c.DeadLetter.SubjectPrefix = "a.>" }, false},
		{"short max age", func(c *sinks.Config) { c.DeadLetter.MaxAge = time.Minute }, false},
		{"bad lease bucket", func(c *sinks.Config) { c.Lease.Bucket = "a.b" }, false},
		{"short lease", func(c *sinks.Config) { c.Lease.TTL = 500 * time.Millisecond }, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := sinktest.Config()
			c.edit(&cfg)
			if err := cfg.Validate(); (err == nil) != c.valid {
				t.Fatalf("Validate() = %v, want valid %v", err, c.valid)
			}
		})
	}
}

func TestDeadLetterSubjects(t *testing.T) {
	cases := []struct {
		dlq, journal string
		ok           bool
	}{
		{"agentphone-dlq", "agentphone", true},
		{"agentphone", "agentphone", false},
		{"agentphone.dlq", "agentphone", false},
		{"events", "events.agentphone", false},
		{"agentphone_dlq", "agentphone", true},
	}
	for _, c := range cases {
		t.Run(c.dlq+" vs "+c.journal, func(t *testing.T) {
			err := sinks.DeadLetterConfig{SubjectPrefix: c.dlq}.CheckSubjects(c.journal)
			if (err == nil) != c.ok {
				t.Fatalf("CheckSubjects = %v, want ok %v", err, c.ok)
			}
		})
	}
}

func TestBatchingValidate(t *testing.T) {
	cases := []struct {
		name string
		b    sinks.Batching
		ok   bool
	}{
		{"valid", sinks.Batching{Size: 500, Wait: time.Millisecond}, true},
		{"byte limit", sinks.Batching{Size: 1, Bytes: 1 << 20, Wait: time.Second}, true},
		{"no size", sinks.Batching{Wait: time.Second}, false},
		{"too large", sinks.Batching{Size: 20000, Wait: time.Second}, false},
		{"tiny byte limit", sinks.Batching{Size: 10, Bytes: 10, Wait: time.Second}, false},
		{"no wait", sinks.Batching{Size: 10}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if err := c.b.Validate("X_"); (err == nil) != c.ok {
				t.Fatalf("Validate() = %v, want ok %v", err, c.ok)
			}
		})
	}
}
