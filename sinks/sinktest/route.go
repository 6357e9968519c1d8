package sinktest

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	connector "github.com/agentphone-connector/connector"
	"github.com/agentphone-connector/connector/sinks"
)

// routesKinds journals events of four kinds and delivers them through a
// sink whose route is two of them: the target gets exactly those, once
// each; a replay from the first event hands the writer those again, and
// nothing else.
func routesKinds(t *testing.T, h *harness) {
	events := MixedEvents("route", 80, 8)
	kinds := []string{"call_ended", "transcript_turn"}
	want := OfKinds(events, kinds...)
	h.journal.Append(t, events[:40]...)
	rec := &recordingWriter{wrapped: wrapped{h.target.NewWriter(t)}}
	filter := sinks.Route{Kinds: kinds}.Filter(h.journal.Config.SubjectPrefix)
	r, _ := h.replicaOf(t, "a", sinks.Sink{Name: h.target.Name(), Writer: rec, Batch: sinks.Batching{Size: 7, Wait: 5 * time.Millisecond}, Filter: filter})
	start(t, r)
	h.journal.Append(t, events[40:]...)
	got := h.waitAll(t, want)
	st := waitStatus(t, r, "all acknowledged", func(s sinks.Status) bool { return s.Pending == 0 && s.Delivered == uint64(len(want)) })
	if err := CheckDelivered(want, got); err != nil {
		t.Fatalf("%v; %s", err, st)
	}
	if !slices.Equal(st.Filter, filter) {
		t.Fatalf("status shows the filter %v, want %v", st.Filter, filter)
	}

	rec.reset()
	js, _ := h.journal.JetStream(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	at, err := sinks.Reposition(ctx, js, h.journal.Config.Stream, h.target.Name(), 1)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(at.Filter, filter) {
		t.Fatalf("the replay reports the filter %v, want %v", at.Filter, filter)
	}
	var again []string
	Eventually(t, 30*time.Second, func() bool { again = rec.ids(); return len(again) >= len(want) },
		func() string {
			return "replay handed the writer " + itoa(len(again)) + " events, want " + itoa(len(want))
		})
	waitStatus(t, r, "replay acknowledged", func(s sinks.Status) bool { return s.Pending == 0 })
	if again = rec.ids(); !slices.Equal(again, IDs(want)) {
		t.Fatalf("the replay re-sent %d events %v, want the %d of its route %v", len(again), head(again), len(want), head(IDs(want)))
	}
}

// recordingWriter records the IDs of the events it was handed and wrote,
// or found written already.
type recordingWriter struct {
	wrapped
	mu  sync.Mutex
	got []string
}

func (w *recordingWriter) Write(ctx context.Context, batch []*connector.Event) error {
	err := w.wrapped.Write(ctx, batch)
	w.mu.Lock()
	defer w.mu.Unlock()
	for i, ev := range batch {
		if e := connector.ErrorAt(err, i); e == nil || errors.Is(e, connector.ErrAlreadyWritten) {
			w.got = append(w.got, ev.ID)
		}
	}
	return err
}

func (w *recordingWriter) reset() {
	w.mu.Lock()
	w.got = nil
	w.mu.Unlock()
}

func (w *recordingWriter) ids() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.got)
}
