package natssink_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	connector "github.com/agentphone-connector/connector"
	"github.com/agentphone-connector/connector/sinks/natssink"
	"github.com/agentphone-connector/connector/sinks/sinktest"
)

// TestCoreMode publishes plain messages that a subscriber on the target
// receives on the templated subjects, with the journal's bytes.
func TestCoreMode(t *testing.T) {
	s := startTarget(t)
	ch := subscribe(t, s.url(), 16)
	w := coreWriter(t, s.url())
	events := sinktest.Events("core", 3, 2)
	if err := w.Write(context.Background(), events); err != nil {
		t.Fatal(err)
	}
	for _, want := range events {
		select {
		case m := <-ch:
			e, err := connector.Unmarshal(m.Data)
			if err != nil || e.ID != want.ID || m.Subject != "agentphone.message."+want.Subject+".sms.agent-1" {
				t.Fatalf("got %s on %s (%v), want %s on agentphone.message.%s.sms.agent-1", e.ID, m.Subject, err, want.ID, want.Subject)
			}
			if ct := m.Header.Get("Content-Type"); ct != connector.ContentType {
				t.Fatalf("Content-Type %q", ct)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("%s not received", want.ID)
		}
	}
}

// TestTooLargeForServer rejects, as permanent, an event over the server's
// max_payload, without sending it; the others of the batch are published.
func TestTooLargeForServer(t *testing.T) {
	s := startTarget(t)
	s.addStream(t)
	w, err := natssink.New(testConfig(s.url()), natssink.Settings{Logger: sinktest.Logger(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close(context.Background())
	events := sinktest.Events("big", 3, 3)
	events[1].Raw = make([]byte, 2<<20) // over the default 1 MiB max_payload
	err = w.Write(context.Background(), events)
	for i, want := range []bool{false, true, false} {
		e := connector.ErrorAt(err, i)
		if got := e != nil && connector.IsPermanent(e) && errors.Is(e, natssink.ErrTooLarge); got != want {
			t.Fatalf("event %d: error %v, want permanent too large: %v", i, e, want)
		}
		if !want && e != nil {
			t.Fatalf("event %d: %v", i, e)
		}
	}
}

func TestWriterCloseWithoutWrite(t *testing.T) {
	check := sinktest.CheckLeaks(t)
	w, err := natssink.New(testConfig("nats://127.0.0.1:1"), natssink.Settings{Logger: sinktest.Logger(t)})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	check()
}

func TestConfigValidate(t *testing.T) {
	ok := testConfig("nats://127.0.0.1:4222")
	cases := []struct {
		name  string
		edit  func(*natssink.Config)
		valid bool
	}{
		{"valid", func(*natssink.Config) {}, true},
		{"disabled", func(c *natssink.Config) { *c = natssink.Config{} }, true},
		{"bad mode", func(c *natssink.Config) { c.Mode = "push" }, false},
		{"bad subject", func(c *natssink.Config) { c.Subject = "a.{x}" }, false},
		{"cert without key", func(c *natssink.Config) { c.TLSCert = "c.pem" }, false},
		{"zero batch", func(c *natssink.Config) { c.BatchSize = 0 }, false},
		{"zero timeout", func(c *natssink.Config) { c.Timeout = 0 }, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := ok
			c.edit(&cfg)
			if err := cfg.Validate(); (err == nil) != c.valid {
				t.Fatalf("Validate() = %v, want valid %v", err, c.valid)
			}
		})
	}
}

// TestPublishesTheJournalsBytes: an event decoded from the journal is
// published as the journal stores it, byte for byte, even where this
// version would encode it otherwise (an older connector's journal).
func TestPublishesTheJournalsBytes(t *testing.T) {
	s := startTarget(t)
	ch := subscribe(t, s.url(), 1)
	stored := []byte(`{"specversion":"1.0", "id":"old-1","source":"agentphone/webhook/project","type":"ai.agentphone.agent.message",` +
		`"subject":"conv_1","time":"2026-03-01T12:00:00Z","datacontenttype":"application/json","normstatus":"ok",` +
		`"receivedtime":"2026-03-01T12:00:01Z","data":{"body": "spaced as an older version wrote it"}}`)
	e, err := connector.UnmarshalNoCopy(stored)
	if err != nil {
		t.Fatal(err)
	}
	w := coreWriter(t, s.url())
	if err := w.Write(context.Background(), []*connector.Event{e}); err != nil {
		t.Fatal(err)
	}
	select {
	case m := <-ch:
		if string(m.Data) != string(stored) {
			t.Fatalf("published\n%s\nwant the journal's bytes\n%s", m.Data, stored)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("nothing received")
	}
}

// subscribe receives, into a channel of the given size, what is published
// on the target under agentphone.>, from when it returns.
func subscribe(t *testing.T, url string, size int) <-chan *nats.Msg {
	t.Helper()
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	ch := make(chan *nats.Msg, size)
	if _, err := nc.ChanSubscribe("agentphone.>", ch); err != nil {
		t.Fatal(err)
	}
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	return ch
}

// coreWriter returns a sink publishing plain messages to the target at url,
// closed when the test ends.
func coreWriter(t *testing.T, url string) *natssink.Writer {
	t.Helper()
	cfg := testConfig(url)
	cfg.Mode, cfg.Stream = natssink.ModeCore, ""
	w, err := natssink.New(cfg, natssink.Settings{Logger: sinktest.Logger(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close(context.Background()) })
	return w
}
