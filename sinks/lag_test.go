package sinks

import (
	"context"
	"testing"
	"time"

	"github.com/agentphone-connector/connector/natsserver/natsservertest"
	"github.com/nats-io/nats.go/jetstream"
)

// TestOldestOfFilter: the oldest pending event of a filtered sink is the
// first on its subjects at or after the sequence, not the first of all.
func TestOldestOfFilter(t *testing.T) {
	ctx := context.Background()
	js, _ := natsservertest.JetStream(t, natsservertest.Embedded(t, nil))
	s, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "J", Subjects: []string{"j.>"}, Storage: jetstream.MemoryStorage})
	if err != nil {
		t.Fatal(err)
	}
	for _, subj := range []string{"j.a.1", "j.b.1", "j.a.2", "j.c.1"} {
		if _, err := js.Publish(ctx, subj, []byte("x")); err != nil {
			t.Fatal(err)
		}
	}
	cases := []struct {
		name   string
		filter []string
		want   uint64 // the sequence whose time is the oldest
	}{{"every event", nil, 1}, {"one kind", []string{"j.b.>"}, 2}, {"two kinds", []string{"j.c.>", "j.b.>"}, 2}, {"none left", []string{"j.z.>"}, 0}}
	for _, c := range cases {
		got, err := oldest(ctx, s, 1, c.filter)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		var want time.Time
		if c.want > 0 {
			m, err := s.GetMsg(ctx, c.want)
			if err != nil {
				t.Fatal(err)
			}
			want = m.Time
		}
		if !got.Equal(want) {
			t.Errorf("%s: oldest %v, want the time of seq %d, %v", c.name, got, c.want, want)
		}
	}
}
