package sinks_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	connector "github.com/agentphone-connector/connector"
	"github.com/agentphone-connector/connector/sinks"
	"github.com/agentphone-connector/connector/sinks/sinktest"
)

func TestRouteValidate(t *testing.T) {
	cases := []struct {
		name    string
		route   sinks.Route
		wantErr string // "" for valid; checked by Validate then Check on the prefix "agentphone"
	}{
		{"every event", sinks.Route{}, ""},
		{"kinds", sinks.Route{Kinds: []string{"message", "call_ended"}}, ""},
		{"kinds and subjects", sinks.Route{Kinds: []string{"call_ended"}, Subjects: []string{"agentphone.message.*.whatsapp.>"}}, ""},
		{"unknown kind", sinks.Route{Kinds: []string{"agent.message"}}, `"agent.message" is not a kind; the kinds are message, call_ended`},
		{"kind twice", sinks.Route{Kinds: []string{"message", "message"}}, "given twice"},
		{"empty token", sinks.Route{Subjects: []string{"agentphone..>"}}, "empty token"},
		{"> before the end", sinks.Route{Subjects: []string{"agentphone.>.sms"}}, "> before its last token"},
		{"wildcard in a token", sinks.Route{Subjects: []string{"agentphone.mess*"}}, "wildcard inside a token"},
		{"space", sinks.Route{Subjects: []string{"agentphone.a b"}}, "space"},
		{"outside the journal", sinks.Route{Subjects: []string{"other.message.>"}}, "not under the journal's subjects agentphone.>"},
		{"kind overlaps a subject", sinks.Route{Kinds: []string{"message"}, Subjects: []string{"agentphone.message.*.sms.>"}}, "overlap"},
		{"subjects overlap", sinks.Route{Subjects: []string{"agentphone.*.conv_1.>", "agentphone.message.>"}}, "overlap"},
		{"subjects apart", sinks.Route{Subjects: []string{"agentphone.message.*.sms.>", "agentphone.message.*.whatsapp.>"}}, ""},
		{"a subject and a longer one apart", sinks.Route{Subjects: []string{"agentphone.message.a", "agentphone.message.a.>"}}, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.route.Validate("KINDS", "SUBJECTS")
			if err == nil {
				err = c.route.Check("agentphone", "KINDS", "SUBJECTS")
			}
			switch {
			case c.wantErr == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case c.wantErr != "" && (err == nil || !strings.Contains(err.Error(), c.wantErr)):
				t.Fatalf("error %v, want one with %q", err, c.wantErr)
			}
		})
	}
}

// TestRouteFilter: a kind is the literal prefix of its subjects.
func TestRouteFilter(t *testing.T) {
	got := sinks.Route{Kinds: []string{"call_ended"}, Subjects: []string{"agentphone.message.*.sms.>"}}.Filter("agentphone")
	if strings.Join(got, " ") != "agentphone.call_ended.> agentphone.message.*.sms.>" {
		t.Fatalf("filter %v", got)
	}
	if f := (sinks.Route{}).Filter("agentphone"); f != nil {
		t.Fatalf("an empty route filters on %v", f)
	}
	e := sinktest.MixedEvents("f", 2, 1)[1] // an ended call
	if !strings.HasPrefix(e.SubjectIn("agentphone"), strings.TrimSuffix(got[0], ">")) {
		t.Fatalf("%s is not under the kind's filter %s", e.SubjectIn("agentphone"), got[0])
	}
}

// TestRouteChangedWhileRunning changes a sink's route between two runs on
// the same journal, as a deployment restarted with a new setting does.
// Widening it delivers the new kind from where the sink stands, just after
// the last event it delivered: the events of that kind before it, which the
// sink passed over, are not delivered; those after it are. Dropping the
// route delivers every event from there on.
func TestRouteChangedWhileRunning(t *testing.T) {
	m := sinktest.NewMemory()
	events := sinktest.MixedEvents("change", 120, 6)
	a, b, c := events[:40], events[40:80], events[80:] // a ends with a reaction and a turn, b likewise
	onlyMessages := sinks.Route{Kinds: []string{"message"}}.Filter("agentphone")
	f := newFixtureWith(t, a, sinks.Settings{}, sinks.Sink{Name: "mem", Writer: m.Writer(), Batch: quick, Filter: onlyMessages})
	want := sinktest.OfKinds(a, "message")
	f.waitStatus(t, "mem", "run 1 acknowledged", func(s sinks.Status) bool { return s.Pending == 0 && s.Delivered == uint64(len(want)) })
	closeRunner(t, f.r)

	f.j.Append(t, b...)
	wider := sinks.Route{Kinds: []string{"message", "call_ended"}}.Filter("agentphone")
	f.r = restart(t, f, sinks.Sink{Name: "mem", Writer: m.Writer(), Batch: quick, Filter: wider})
	want = append(want, sinktest.OfKinds(after(events[:80], want), "message", "call_ended")...)
	checkReceived(t, f, m, want)
	closeRunner(t, f.r)

	f.j.Append(t, c...)
	f.r = restart(t, f, sinks.Sink{Name: "mem", Writer: m.Writer(), Batch: quick})
	want = append(want, after(events, want)...)
	checkReceived(t, f, m, want)
}

// after returns the events journaled after the last one delivered: where
// the sink stands.
func after(events, delivered []*connector.Event) []*connector.Event {
	return events[slices.Index(events, delivered[len(delivered)-1])+1:]
}

// restart starts a new Runner of s on the fixture's journal.
func restart(t *testing.T, f *fixture, s sinks.Sink) *sinks.Runner {
	t.Helper()
	r, err := sinks.New(f.js, f.j.Config.Stream, sinktest.Config(), []sinks.Sink{s}, sinks.Settings{Logger: sinktest.Logger(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Close(context.Background()) })
	if err := r.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	return r
}

// checkReceived waits until the sink has acknowledged everything and the
// memory holds as many events as want, then checks they are want, in order.
func checkReceived(t *testing.T, f *fixture, m *sinktest.Memory, want []*connector.Event) {
	t.Helper()
	got := waitReceived(t, m, len(want))
	f.waitStatus(t, "mem", "acknowledged", func(s sinks.Status) bool { return s.Pending == 0 })
	got = m.Received()
	ids := make([]string, len(got))
	for i, r := range got {
		ids[i] = r.ID
	}
	if strings.Join(ids, " ") != strings.Join(sinktest.IDs(want), " ") {
		t.Fatalf("received %d events:\n%v\nwant %d:\n%v", len(ids), ids, len(want), sinktest.IDs(want))
	}
}

func closeRunner(t *testing.T, r *sinks.Runner) {
	t.Helper()
	if err := r.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
}
